package io.qwenedit.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.qwenedit.queue.Job;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The meters the worker, the bot and the supervisor record, in one place: {@code JobMetrics.of(vertx).pickup(d)}.
 * Every method is cheap, thread-safe and never throws; label values are normalised so a caller cannot create an
 * unbounded number of series. Names, types, labels and meaning: docs/metrics.md.
 */
public final class JobMetrics {
  /** The GPU slot states {@link #gpuState} knows; each gets a 0/1 series per GPU. */
  public static final List<String> GPU_STATES = List.of("healthy", "busy", "wedged", "unreachable");
  /** ComfyUI endpoints {@link #comfyRequest} reports by name; any other path is reported as {@code other}. */
  public static final List<String> COMFY_ENDPOINTS = List.of("/prompt", "/history", "/view", "/upload/image",
      "/interrupt", "/queue", "/system_stats", "/object_info", "/free", "/ws");

  private static final Map<MeterRegistry, JobMetrics> ALL = new WeakHashMap<>();

  private static final Duration[] PICKUP_BUCKETS = seconds(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10);
  private static final Duration[] QUEUE_WAIT_BUCKETS = seconds(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600);
  private static final Duration[] EXECUTION_BUCKETS = seconds(1, 2.5, 5, 10, 20, 30, 60, 120, 180, 300, 600, 1200);
  private static final Duration[] END_TO_END_BUCKETS = seconds(1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600);
  private static final Duration[] COMFY_BUCKETS = seconds(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60);

  private final MeterRegistry registry;
  private final Timer pickup;
  private final Timer queueWait;
  private final Counter attemptsStarted;
  private final DistributionSummary attemptsPerJob;
  private final Counter leaseExpired;
  private final Counter messagesSent;
  private final Map<String, AtomicReference<String>> gpuStates = new ConcurrentHashMap<>();

  private JobMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.pickup = Timer.builder("qwenedit.job.pickup")
        .description("Time from a job becoming claimable (queued, or due after a retry back-off) to its claim by a worker")
        .serviceLevelObjectives(PICKUP_BUCKETS).register(registry);
    this.queueWait = Timer.builder("qwenedit.job.queue.wait")
        .description("Time a finished job's last attempt waited in line (queued_at to started_at)")
        .serviceLevelObjectives(QUEUE_WAIT_BUCKETS).register(registry);
    this.attemptsStarted = Counter.builder("qwenedit.job.attempts.started")
        .description("Attempts started (claims) in this process").register(registry);
    this.attemptsPerJob = DistributionSummary.builder("qwenedit.job.attempts")
        .description("Attempts a job needed, recorded when it ends").serviceLevelObjectives(1, 2, 3, 4, 5, 10).register(registry);
    this.leaseExpired = Counter.builder("qwenedit.lease.expired")
        .description("Times a worker found its lease on a job gone (renewal or progress refused) and stopped working on it")
        .register(registry);
    this.messagesSent = Counter.builder("qwenedit.telegram.messages.sent")
        .description("Telegram messages (texts, photos, edits) sent successfully").register(registry);
  }

  /** The meters of this Vert.x instance's registry (the Prometheus one of a service Vert.x). */
  public static JobMetrics of(Vertx vertx) {
    return of(Meters.registry(vertx));
  }

  public static JobMetrics of(MeterRegistry registry) {
    synchronized (ALL) {
      return ALL.computeIfAbsent(registry, JobMetrics::new);
    }
  }

  public MeterRegistry registry() {
    return registry;
  }

  // ---------------------------------------------------------------- jobs

  /** A worker claimed a job {@code latency} after it became claimable. */
  public void pickup(Duration latency) {
    record(pickup, latency);
  }

  /** A worker claimed a job (one attempt begins). */
  public void attemptStarted() {
    attemptsStarted.increment();
  }

  /**
   * A job ended. {@code outcome}: succeeded, failed, dead or cancelled. Null durations are not recorded (e.g. a job
   * cancelled before it ever started has no execution time).
   *
   * @param attempts attempts the job used (the record's {@code attempts})
   * @param queueWait its last attempt's wait in line (queued_at to started_at)
   * @param execution its last attempt's run time (started_at to the end)
   * @param endToEnd from the request (created_at) to the end
   */
  public void jobFinished(String outcome, int attempts, Duration queueWait, Duration execution, Duration endToEnd) {
    String o = label(outcome == null ? null : outcome.toLowerCase(Locale.ROOT), "unknown");
    Counter.builder("qwenedit.jobs.finished").description("Jobs that ended in this process, by outcome")
        .tag("outcome", o).register(registry).increment();
    if (attempts > 0) {
      attemptsPerJob.record(attempts);
    }
    record(this.queueWait, queueWait);
    if (execution != null) {
      record(Timer.builder("qwenedit.job.execution").description("Run time of a job's last attempt, by outcome")
          .tag("outcome", o).serviceLevelObjectives(EXECUTION_BUCKETS).register(registry), execution);
    }
    if (endToEnd != null) {
      record(Timer.builder("qwenedit.job.end.to.end").description("Time from the request to the job's end, by outcome")
          .tag("outcome", o).serviceLevelObjectives(END_TO_END_BUCKETS).register(registry), endToEnd);
    }
  }

  /**
   * Convenience for the worker: a job it held ended at {@code finishedAtMs} (Redis time, as in the record); the
   * durations come from the record's {@code created_at}, {@code queued_at} and {@code started_at}.
   */
  public void jobFinished(Job job, String outcome, long finishedAtMs) {
    jobFinished(outcome, job.attempts(),
        between(job.queuedAt(), job.startedAt()), between(job.startedAt(), finishedAtMs), between(job.createdAt(), finishedAtMs));
  }

  /** A worker's renewal or progress was refused: its lease ran out and the job was taken over or reaped. */
  public void leaseExpired() {
    leaseExpired.increment();
  }

  /** The reaper returned jobs whose lease ran out: {@code requeued} back in line, {@code dead} dead-lettered. */
  public void reaped(int requeued, int dead) {
    if (requeued > 0) {
      reapedCounter("requeued").increment(requeued);
    }
    if (dead > 0) {
      reapedCounter("dead").increment(dead);
    }
  }

  private Counter reapedCounter(String action) {
    return Counter.builder("qwenedit.jobs.reaped").description("Jobs the reaper took back from a worker whose lease ran out")
        .tag("action", action).register(registry);
  }

  // ---------------------------------------------------------------- GPUs

  /** A GPU slot's state now: healthy, busy, wedged or unreachable (another value is reported as {@code other}). */
  public void gpuState(String gpu, String state) {
    String g = label(gpu, "unknown");
    String s = state == null ? "other" : state.toLowerCase(Locale.ROOT);
    String value = GPU_STATES.contains(s) ? s : "other";
    gpuStates.computeIfAbsent(g, this::registerGpu).set(value);
  }

  private AtomicReference<String> registerGpu(String gpu) {
    AtomicReference<String> current = new AtomicReference<>("");
    for (String state : GPU_STATES) {
      Gauge.builder("qwenedit.gpu.state", current, c -> state.equals(c.get()) ? 1 : 0)
          .description("1 for the state a GPU slot is in now (healthy, busy, wedged, unreachable), 0 for the others")
          .tags(Tags.of("gpu", gpu, "state", state)).register(registry);
    }
    return current;
  }

  /** A GPU was busy with a job for {@code busy} (add it when the job leaves the GPU). */
  public void gpuBusy(String gpu, Duration busy) {
    if (busy == null || busy.isNegative()) {
      return;
    }
    Counter.builder("qwenedit.gpu.busy").baseUnit("seconds").description("Time each GPU spent running jobs")
        .tag("gpu", label(gpu, "unknown")).register(registry).increment(busy.toNanos() / 1e9);
  }

  // ---------------------------------------------------------------- ComfyUI

  /** One HTTP request to ComfyUI (or a WebSocket connect, endpoint {@code /ws}) and how long it took. */
  public void comfyRequest(String endpoint, Duration latency, boolean failed) {
    String e = comfyEndpoint(endpoint);
    record(Timer.builder("qwenedit.comfy.request").description("Latency of requests to ComfyUI, by endpoint and result")
        .tags("endpoint", e, "result", failed ? "error" : "ok").serviceLevelObjectives(COMFY_BUCKETS).register(registry), latency);
    if (failed) {
      Counter.builder("qwenedit.comfy.request.failures").description("Failed requests to ComfyUI (network error, 4xx/5xx, bad body)")
          .tag("endpoint", e).register(registry).increment();
    }
  }

  /** ComfyUI was sent {@code POST /interrupt}: reason stall (no progress), timeout (total limit) or cancel. */
  public void comfyInterrupt(String reason) {
    Counter.builder("qwenedit.comfy.interrupts").description("Prompts interrupted, by reason (stall, timeout, cancel)")
        .tag("reason", label(reason, "other")).register(registry).increment();
  }

  /** A running prompt made no progress for the stall limit and was interrupted. */
  public void stallInterrupt() {
    comfyInterrupt("stall");
  }

  static String comfyEndpoint(String endpoint) {
    if (endpoint == null) {
      return "other";
    }
    String path = endpoint;
    int q = path.indexOf('?');
    if (q >= 0) {
      path = path.substring(0, q);
    }
    for (String known : COMFY_ENDPOINTS) {
      if (path.equals(known) || path.startsWith(known + "/")) {
        return known;
      }
    }
    return "other";
  }

  // ---------------------------------------------------------------- supervision, Redis

  /** The supervisor redeployed a verticle; reason e.g. stalled, failed, blocked. */
  public void verticleRedeployed(String verticle, String reason) {
    Counter.builder("qwenedit.verticle.redeploys").description("Verticles redeployed by the supervisor, by verticle and reason")
        .tags("verticle", label(verticle, "unknown"), "reason", label(reason, "other")).register(registry).increment();
  }

  /** A Redis client was replaced or resubscribed after its connection was lost or went silent. */
  public void redisReconnect(String client) {
    Counter.builder("qwenedit.redis.reconnects").description("Redis clients replaced (or subscriptions renewed) after a lost or silent connection")
        .tag("client", label(client, "unknown")).register(registry).increment();
  }

  // ---------------------------------------------------------------- Telegram

  /** The Telegram Bot API answered an error (HTTP status, e.g. 429, 502) or did not answer. */
  public void telegramError(int httpStatus) {
    telegramError(String.valueOf(httpStatus));
  }

  /** Same, with a code such as {@code timeout} or {@code network} when there was no HTTP status. */
  public void telegramError(String code) {
    Counter.builder("qwenedit.telegram.errors").description("Telegram Bot API errors, by HTTP status or timeout/network")
        .tag("code", label(code, "other")).register(registry).increment();
  }

  /** The bot sent a message (text, photo or edit) successfully. */
  public void messageSent() {
    messagesSent.increment();
  }

  // ---------------------------------------------------------------- helpers

  private static void record(Timer timer, Duration d) {
    if (d != null && !d.isNegative()) {
      timer.record(d);
    }
  }

  private static Duration between(Long fromMs, Long toMs) {
    return fromMs == null || toMs == null || toMs < fromMs ? null : Duration.ofMillis(toMs - fromMs);
  }

  /** A label value kept short and tame: letters, digits and {@code _ . / : @ -}, at most 64 (else the fallback). */
  static String label(String value, String fallback) {
    if (value == null || value.isBlank()) {
      return fallback;
    }
    String v = value.strip();
    return v.length() <= 64 && v.matches("[A-Za-z0-9_./:@-]+") ? v : fallback;
  }

  private static Duration[] seconds(double... values) {
    Duration[] out = new Duration[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = Duration.ofNanos(Math.round(values[i] * 1e9));
    }
    return out;
  }
}
