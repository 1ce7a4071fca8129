package io.qwenedit.worker;

import io.qwenedit.comfy.ComfyClient;
import io.qwenedit.comfy.ComfyClientOptions;
import io.qwenedit.comfy.ComfyException;
import io.qwenedit.comfy.DispatchListener;
import io.qwenedit.comfy.DispatchRequest;
import io.qwenedit.comfy.DispatchResult;
import io.qwenedit.comfy.workflow.WorkflowCatalog;
import io.qwenedit.config.Config;
import io.qwenedit.gpu.GpuArbiterVerticle.Gpu;
import io.qwenedit.metrics.JobMetrics;
import io.qwenedit.queue.JobError;
import io.qwenedit.queue.JobQueue;
import io.qwenedit.queue.QueueResults.Lease;
import io.qwenedit.queue.QueueResults.Outcome;
import io.qwenedit.redis.RedisCommands;
import io.qwenedit.redis.RedisSubscriber;
import io.qwenedit.supervision.SupervisedVerticle;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs claimed jobs on ComfyUI: one {@link ComfyClient} per GPU (pooled HTTP, one WebSocket). For each job it records
 * the ComfyUI prompt id on the job before submitting (so a re-dispatch after a crash picks the earlier prompt up),
 * renews the job's lease while it runs, publishes progress, interrupts ComfyUI when the job is cancelled or its lease
 * was taken over, and ends the job with a fenced complete or fail. Then it frees the GPU slot.
 */
public final class ComfyDispatchVerticle extends SupervisedVerticle {
  private static final Logger LOG = LoggerFactory.getLogger(ComfyDispatchVerticle.class);
  private static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true);
  private static final long PROGRESS_EVERY_MS = 250;

  private final Config config;
  private final List<Gpu> gpus;
  private final WorkflowCatalog workflows;
  private final Map<String, ComfyClient> clients = new HashMap<>();
  private final Map<String, Running> running = new LinkedHashMap<>();
  private RedisCommands redis;
  private JobQueue queue;
  private RedisSubscriber cancels;

  /** A job this verticle is running. */
  private final class Running {
    final String id;
    final long fence;
    final int attempts;
    final String gpu;
    final long startedAt = System.currentTimeMillis();
    final Promise<String> cancel = Promise.promise();
    Long createdAt;
    java.time.Duration queueWait;
    long leaseTimer = -1;
    long lastProgressSent;
    JsonObject progress = new JsonObject();
    boolean leaseLost;

    Running(String id, long fence, int attempts, String gpu) {
      this.id = id;
      this.fence = fence;
      this.attempts = attempts;
      this.gpu = gpu;
    }

    void stop(String reason) {
      if ("lease_lost".equals(reason)) {
        leaseLost = true;
      }
      if (cancel.tryComplete(reason)) {
        LOG.info("job {}: stopping it on {} ({})", id, gpu, reason);
      }
    }
  }

  public ComfyDispatchVerticle(Config config, List<Gpu> gpus, WorkflowCatalog workflows) {
    super(config.worker().testSwitches());
    this.config = config;
    this.gpus = gpus;
    this.workflows = workflows;
  }

  @Override
  public String name() {
    return "dispatch";
  }

  @Override
  protected long progressDueWithinMs() {
    if (running.isEmpty()) {
      return -1;
    }
    // Each running job's lease is renewed every third of the lease; renewals that stop mean this verticle is stuck
    // (ComfyUI's own hangs are the client's clocks' business: it fails the dispatch by itself).
    return 3 * leaseEveryMs() + config.redis().commandTimeout().toMillis() + 1_000;
  }

  private long leaseEveryMs() {
    return Math.max(200, config.queue().lease().toMillis() / 3);
  }

  @Override
  protected JsonObject detail() {
    return state();
  }

  @Override
  protected Future<?> startService() {
    redis = new RedisCommands(vertx, config.redis(), "dispatch");
    queue = new JobQueue(redis, config.queue());
    for (Gpu g : gpus) {
      ComfyClientOptions opts = ComfyClientOptions.from(config.comfy(), workflows)
          .withClientId("qwenedit-" + config.worker().workerId() + "-" + g.name());
      clients.put(g.name(), new ComfyClient(vertx, g.url(), opts));
    }
    cancels = new RedisSubscriber(vertx, config.redis(), List.of(queue.keys().cancelChannel()), (ch, id) -> {
      Running r = running.get(id);
      if (r != null) {
        r.stop("cancelled");
      }
    });
    cancels.startInBackground();
    consume(Addresses.DISPATCH_RUN, msg -> {
      if (stalled()) {
        return; // test switch: takes the job and never answers or runs it
      }
      JsonObject b = (JsonObject) msg.body();
      msg.reply(new JsonObject().put("accepted", true));
      run(b.getJsonObject("job"), b.getLong("fence"), b.getString("gpu"));
    });
    consume(Addresses.DISPATCH_STATE, msg -> msg.reply(state()));
    return Future.succeededFuture();
  }

  @Override
  protected Future<?> stopService() {
    // Jobs still running go back to the queue (not counted as an attempt); ComfyUI is interrupted by each dispatch.
    List<Future<?>> ends = new ArrayList<>();
    for (Running r : new ArrayList<>(running.values())) {
      r.stop("shutdown");
      ends.add(r.cancel.future());
    }
    return Future.join(ends)
        .transform(v -> waitUntilIdle(System.currentTimeMillis() + 20_000))
        .eventually(() -> Future.join(clients.values().stream().map(ComfyClient::close).toList()))
        .eventually(() -> cancels.close())
        .eventually(() -> redis.close());
  }

  private Future<Void> waitUntilIdle(long deadline) {
    if (running.isEmpty() || System.currentTimeMillis() > deadline) {
      return Future.succeededFuture();
    }
    return vertx.timer(50, TimeUnit.MILLISECONDS).compose(v -> waitUntilIdle(deadline));
  }

  private JsonObject state() {
    JsonArray jobs = new JsonArray();
    running.values().forEach(r -> jobs.add(new JsonObject().put("id", r.id).put("gpu", r.gpu).put("started_at", r.startedAt)
        .put("attempt", r.attempts).put("progress", r.progress)));
    return new JsonObject().put("jobs", jobs);
  }

  private void run(JsonObject job, long fence, String gpu) {
    String id = job.getString("id");
    ComfyClient client = clients.get(gpu);
    Running r = new Running(id, fence, job.getInteger("attempts", 1), gpu);
    r.createdAt = job.getLong("created_at");
    Long queuedAt = job.getLong("queued_at");
    Long startedAt = job.getLong("started_at");
    r.queueWait = queuedAt == null || startedAt == null ? null : java.time.Duration.ofMillis(Math.max(0, startedAt - queuedAt));
    running.put(id, r);
    progressed();
    String resumable = resumablePromptId(job);
    String promptId = resumable != null ? resumable : UUID.randomUUID().toString();
    r.leaseTimer = vertx.setPeriodic(leaseEveryMs(), t -> {
      if (!stalled()) {
        renew(r, null).onComplete(ar -> progressed());
      }
    });
    // the prompt id is recorded and the input image read at the same time (two round trips become one)
    Future<Boolean> recorded = renew(r, promptId);
    Future<Buffer> input = queue.image(job.getString("input"));
    Future<DispatchResult> result = Future.join(recorded, input)
        .transform(ar -> !recorded.succeeded() || !recorded.result() ? Future.failedFuture(new LeaseLost())
            : input.failed() ? Future.failedFuture(input.cause()) : Future.succeededFuture(input.result()))
        .compose(image -> {
          if (image == null) {
            return Future.failedFuture(ComfyException.permanent("input_missing",
                "The input image of this job is gone from Redis (expired?); it cannot be edited. Please send it again."));
          }
          return client.dispatch(request(job, promptId, image, r.cancel.future()).withResume(resumable != null), listener(r));
        });
    result.onComplete(ar -> finish(r, ar.succeeded() ? ar.result() : null, ar.cause()));
  }

  /** The previous attempt's prompt is picked up again only when that attempt was lost with its worker. */
  private static String resumablePromptId(JsonObject job) {
    String recorded = job.getString("prompt_id");
    JsonArray log = job.getJsonArray("attempt_log") == null ? new JsonArray() : job.getJsonArray("attempt_log");
    String lastOutcome = log.isEmpty() ? null : log.getJsonObject(log.size() - 1).getString("outcome");
    return recorded != null && "lease_expired".equals(lastOutcome) ? recorded : null;
  }

  private static DispatchRequest request(JsonObject job, String promptId, Buffer image, Future<String> cancel) {
    JsonObject params = job.getJsonObject("params") == null ? new JsonObject() : job.getJsonObject("params");
    JsonObject info = job.getJsonObject("input_info") == null ? new JsonObject() : job.getJsonObject("input_info");
    String ext = "jpeg".equals(info.getString("format")) ? "jpg" : info.getString("format", "png");
    Number seed = params.getNumber("seed");
    Number steps = params.getNumber("steps");
    return DispatchRequest.of(job.getString("id"), promptId, image, job.getString("id") + "." + ext, job.getString("prompt"))
        .withSeed(seed == null ? null : seed.longValue())
        .withSteps(steps == null ? null : steps.intValue())
        .withWorkflow(job.getString("workflow"))
        .withCancel(cancel);
  }

  private DispatchListener listener(Running r) {
    return new DispatchListener() {
      @Override
      public void onStarted() {
        progressed();
        report(r, new JsonObject().put("stage", "started").put("gpu", r.gpu), true);
      }

      @Override
      public void onProgress(int value, int max, String node) {
        progressed();
        report(r, new JsonObject().put("stage", "sampling").put("value", value).put("max", max).put("gpu", r.gpu), value >= max);
      }

      @Override
      public void onActivity() {
        progressed();
      }
    };
  }

  /** Publishes progress (throttled; the last step always goes out) and learns about cancels and lost leases. */
  private void report(Running r, JsonObject progress, boolean force) {
    r.progress = progress;
    long now = System.currentTimeMillis();
    if (!force && now - r.lastProgressSent < PROGRESS_EVERY_MS) {
      return;
    }
    r.lastProgressSent = now;
    queue.progress(r.id, r.fence, progress).onSuccess(lease -> onLease(r, lease));
  }

  /** Renews the lease (and records the GPU and prompt id when given); false when the job is no longer ours. */
  private Future<Boolean> renew(Running r, String promptId) {
    return queue.renew(r.id, r.fence, promptId == null ? null : r.gpu, promptId)
        .map(lease -> {
          onLease(r, lease);
          return lease.held();
        })
        .recover(err -> {
          // Redis trouble: keep working; the lease has slack, and a later renewal may succeed
          LOG.warn("job {}: lease renewal failed: {}", r.id, err.getMessage());
          return Future.succeededFuture(!r.leaseLost);
        });
  }

  private void onLease(Running r, Lease lease) {
    if (!lease.held()) {
      if (!r.leaseLost) {
        JobMetrics.of(vertx).leaseExpired();
      }
      LOG.warn("job {}: our lease (fence {}) was taken over (state {}); interrupting our prompt", r.id, r.fence, lease.state());
      r.stop("lease_lost");
    } else if (lease.cancelRequested()) {
      r.stop("cancelled");
    }
  }

  private static final class LeaseLost extends RuntimeException {
    LeaseLost() {
      super("lease lost before the job started", null, false, false);
    }
  }

  private void finish(Running r, DispatchResult result, Throwable err) {
    vertx.cancelTimer(r.leaseTimer);
    String cancelReason = r.cancel.future().isComplete() ? r.cancel.future().result() : null;
    Future<?> outcome;
    if (result != null) {
      JsonObject info = result.toJson().put("gpu", r.gpu);
      info.remove("image");
      outcome = write(r, () -> queue.complete(r.id, r.fence, result.image(), info));
    } else if (err instanceof LeaseLost || r.leaseLost) {
      outcome = Future.succeededFuture(); // someone else owns the job now: its outcome is theirs to write
    } else if ("shutdown".equals(cancelReason)) {
      outcome = write(r, () -> queue.release(r.id, r.fence, "worker shutting down"));
    } else if ("cancelled".equals(cancelReason)) {
      outcome = write(r, () -> queue.finishCancelled(r.id, r.fence));
    } else {
      JobError e = err instanceof ComfyException c ? c.error()
          : JobError.retryable("worker_error", "The worker failed while running the job: " + err.getMessage());
      outcome = write(r, () -> queue.fail(r.id, r.fence, r.attempts, e));
    }
    outcome.onComplete(ar -> {
      recordMetrics(r, ar.succeeded() && ar.result() instanceof Outcome o && o.accepted() ? o.state() : null);
      running.remove(r.id, r); // a later run of the same job (after a hand-back) is not this one
      r.cancel.tryComplete("done");
      progressed();
      vertx.eventBus().send(Addresses.ARBITER_RELEASE, new JsonObject().put("gpu", r.gpu).put("job", r.id), LOCAL);
    });
  }

  private void recordMetrics(Running r, String state) {
    JobMetrics m = JobMetrics.of(vertx);
    long now = System.currentTimeMillis();
    m.gpuBusy(r.gpu, java.time.Duration.ofMillis(now - r.startedAt));
    if (state != null && !"queued".equals(state) && !"retrying".equals(state)) {
      m.jobFinished(state, r.attempts, r.queueWait, java.time.Duration.ofMillis(now - r.startedAt),
          r.createdAt == null ? null : java.time.Duration.ofMillis(Math.max(0, now - r.createdAt)));
    }
  }

  /** Writes a job's outcome, retrying through a short Redis outage (the lease still protects the job meanwhile). */
  private Future<Outcome> write(Running r, Supplier<Future<Outcome>> op) {
    return retry(op, 0, System.currentTimeMillis() + config.queue().lease().toMillis()).onFailure(err ->
        LOG.error("job {}: could not record its outcome ({}); its lease will expire and it will be run again", r.id,
            err.getMessage()));
  }

  private Future<Outcome> retry(Supplier<Future<Outcome>> op, int attempt, long deadline) {
    return op.get().recover(err -> {
      if (System.currentTimeMillis() > deadline) {
        return Future.failedFuture(err);
      }
      long delay = Math.min(5_000, 200L << Math.min(attempt, 5));
      return vertx.timer(delay, TimeUnit.MILLISECONDS).compose(v -> retry(op, attempt + 1, deadline));
    });
  }
}
