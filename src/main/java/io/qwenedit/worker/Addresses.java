package io.qwenedit.worker;

/**
 * Event-bus addresses of the worker's verticles (all local to the process: {@code localConsumer}). Message shapes
 * are documented in docs/architecture.md.
 */
public final class Addresses {
  private static final String P = "qwenedit.worker.";

  /** request {max} → {slots:[{gpu,url}]}: reserve up to max free, healthy, locked GPU slots for one claim. */
  public static final String ARBITER_RESERVE = P + "arbiter.reserve";
  /** send {gpu}: a reserved slot was not used. */
  public static final String ARBITER_UNRESERVE = P + "arbiter.unreserve";
  /** send {gpu, job}: a reserved slot now runs this job. */
  public static final String ARBITER_ASSIGN = P + "arbiter.assign";
  /** send {gpu, job}: the job on this slot ended; the slot is free again. */
  public static final String ARBITER_RELEASE = P + "arbiter.release";
  /** publish {free}: a slot became free (wakes the poller). */
  public static final String ARBITER_CHANGED = P + "arbiter.changed";
  /** request → {gpus:[{name,url,state,lock,health,job,...}]}. */
  public static final String ARBITER_STATE = P + "arbiter.state";
  /** publish {gpu, state: HEALTHY|WEDGED|UNREACHABLE|RESTARTING, detail, at}: a GPU's ComfyUI probe result. */
  public static final String GPU_HEALTH = P + "gpu.health";
  /** request {job, fence, gpu} → {accepted}: run this claimed job on this GPU. */
  public static final String DISPATCH_RUN = P + "dispatch.run";
  /** request → {jobs:[{id,gpu,started_at,progress}]}. */
  public static final String DISPATCH_STATE = P + "dispatch.state";
  /** request {reason} → {}: stop claiming (graceful shutdown). */
  public static final String POLLER_STOP = P + "poller.stop";
  /** request → {}: the supervisor stops redeploying (an orderly shutdown follows). */
  public static final String SUPERVISOR_STOP = P + "supervisor.stop";
  /** request → {verticles:[{name,status: ok|ko,redeploys,problem}]}: the supervisor's view (for the registry entry). */
  public static final String SUPERVISOR_STATE = P + "supervisor.state";
  /** request → {last_cycle_at, ...}: the poller's view (for health). */
  public static final String POLLER_STATE = P + "poller.state";

  private Addresses() {}

  /** request → {progress_at, due_within_ms, detail}: a supervised verticle's progress heartbeat. */
  public static String ping(String verticle) {
    return P + "svc." + verticle + ".ping";
  }

  /** Test-only switch (WORKER_TEST_SWITCHES=true): send {mode: stall|silent|hang-stop}. */
  public static String testSwitch(String verticle) {
    return P + "svc." + verticle + ".test";
  }
}
