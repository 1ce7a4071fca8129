package io.qwenedit.bot;

import io.qwenedit.config.Config;
import io.qwenedit.queue.JobError;
import io.qwenedit.queue.JobQueue;
import io.qwenedit.queue.JobWaiter;
import io.qwenedit.queue.QueueResults.Claimed;
import io.qwenedit.queue.QueueResults.Lease;
import io.qwenedit.queue.Registry;
import io.qwenedit.redis.RedisCommands;
import io.qwenedit.testing.Images;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A worker for the bot's tests that uses the real queue the way a worker must: blocking wait ({@link JobWaiter}),
 * claim with lease, progress (which renews the lease and reports a cancel), then complete with a real PNG, fail, or
 * finish as cancelled. It announces itself in the worker registry, so the bot sees a live worker. No GPU, no ComfyUI.
 */
final class QueueTestWorker implements EditBackend {
  private final Config config;
  private final int steps;
  private final long stepMs;
  private volatile Supplier<Buffer> result = () -> Images.png(96, 64);
  private Vertx vertx;
  private RedisCommands redis;
  private JobQueue queue;
  private JobWaiter waiter;
  private Registry registry;
  private volatile boolean closed;
  private volatile boolean hold;
  private volatile boolean paused;
  private volatile Promise<Void> gate = Promise.promise();
  private final ConcurrentLinkedDeque<JobError> failures = new ConcurrentLinkedDeque<>();
  private final List<String> taken = new CopyOnWriteArrayList<>();
  private final List<String> completed = new CopyOnWriteArrayList<>();

  QueueTestWorker(Config config, int steps, long stepMs) {
    this.config = config;
    this.steps = steps;
    this.stepMs = stepMs;
  }

  /** The picture every job ends with (default: a 96x64 PNG). */
  @Override
  public QueueTestWorker result(Supplier<Buffer> image) {
    this.result = image;
    return this;
  }

  @Override
  public void start() {
    vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
    redis = new RedisCommands(vertx, config.redis(), "test-worker");
    queue = new JobQueue(redis, config.queue());
    registry = Registry.workers(redis, queue.keys());
    waiter = new JobWaiter(vertx, queue, config.redis(), config.queue(), "test-worker");
    announce();
    vertx.setPeriodic(500, t -> announce());
    vertx.setPeriodic(1000, t -> queue.reap());
    vertx.runOnContext(v -> loop());
  }

  private void announce() {
    if (!closed) {
      registry.announce("test-worker", new JsonObject().put("host", "test").put("gpus", List.of()), Duration.ofSeconds(3));
    }
  }

  private void loop() {
    if (closed) {
      return;
    }
    if (paused) {
      vertx.setTimer(50, t -> loop());
      return;
    }
    waiter.next(1).onComplete(ar -> {
      if (ar.failed() || ar.result().isEmpty()) {
        loop();
        return;
      }
      Claimed c = ar.result().get(0);
      if (paused) {
        // Paused while parked in the wait: hand the job back to its place in line, as a stopping worker does.
        queue.release(c.id(), c.fence(), "test worker paused").onComplete(x -> loop());
        return;
      }
      taken.add(c.id());
      run(c).onComplete(x -> loop());
    });
  }

  private Future<Void> run(Claimed c) {
    Future<Boolean> progressed = step(c, 1);
    return progressed.compose(go -> {
      if (!go) {
        return Future.succeededFuture();
      }
      return (hold ? holdUntilReleased(c) : Future.succeededFuture(true)).compose(stillGo -> {
        if (!stillGo) {
          return Future.succeededFuture();
        }
        JobError err = failures.pollFirst();
        if (err != null) {
          return queue.fail(c.id(), c.fence(), c.job().attempts(), err).mapEmpty();
        }
        return queue.complete(c.id(), c.fence(), result.get(), new JsonObject().put("worker", "test"))
            .onSuccess(o -> {
              if (o.accepted()) {
                completed.add(c.id());
              }
            }).mapEmpty();
      });
    });
  }

  /** Progress step i of {@code steps}; false when the job was cancelled (then finished as cancelled) or lost. */
  private Future<Boolean> step(Claimed c, int i) {
    if (i > steps) {
      return Future.succeededFuture(true);
    }
    return queue.progress(c.id(), c.fence(), new JsonObject().put("value", i).put("max", steps)).compose(lease -> {
      Future<Boolean> stop = stopIfCancelled(c, lease);
      if (stop != null) {
        return stop;
      }
      Promise<Boolean> next = Promise.promise();
      vertx.setTimer(Math.max(1, stepMs), t -> step(c, i + 1).onComplete(next));
      return next.future();
    });
  }

  private Future<Boolean> stopIfCancelled(Claimed c, Lease lease) {
    if (!lease.held()) {
      return Future.succeededFuture(false);
    }
    if (lease.cancelRequested()) {
      return queue.finishCancelled(c.id(), c.fence()).map(false);
    }
    return null;
  }

  private Future<Boolean> holdUntilReleased(Claimed c) {
    Promise<Boolean> done = Promise.promise();
    Future<Void> g = gate.future();
    long timer = vertx.setPeriodic(100, t -> queue.renew(c.id(), c.fence(), null, null).onSuccess(lease -> {
      Future<Boolean> stop = stopIfCancelled(c, lease);
      if (stop != null) {
        stop.onComplete(done);
      }
    }));
    g.onComplete(x -> done.tryComplete(true));
    return done.future().eventually(() -> {
      vertx.cancelTimer(timer);
      return Future.succeededFuture();
    });
  }

  @Override
  public void holdJobs(boolean on) {
    hold = on;
  }

  @Override
  public void release() {
    hold = false; // a job not yet at its hold point must not wait for a gate nobody will open
    Promise<Void> g = gate;
    gate = Promise.promise();
    vertx.runOnContext(v -> g.tryComplete());
  }

  @Override
  public void pause(boolean on) {
    paused = on;
  }

  @Override
  public void failNext(String code, String message, boolean retryable) {
    failures.add(new JobError(code, message, retryable));
  }

  @Override
  public List<String> taken() {
    return List.copyOf(taken);
  }

  @Override
  public List<String> completed() {
    return List.copyOf(completed);
  }

  @Override
  public void close() {
    closed = true;
    if (vertx == null) {
      return;
    }
    try {
      registry.remove("test-worker").await(2, TimeUnit.SECONDS);
    } catch (Exception ignored) {
      // Redis may be down in the test that kills it
    }
    try {
      waiter.close().await(2, TimeUnit.SECONDS);
      redis.close().await(2, TimeUnit.SECONDS);
    } catch (Exception ignored) {
      // closing anyway
    }
    try {
      vertx.close().await(5, TimeUnit.SECONDS);
    } catch (Exception ignored) {
      // closing anyway
    }
  }
}
