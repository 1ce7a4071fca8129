package io.qwenedit.worker;

import io.qwenedit.config.Config;
import io.qwenedit.metrics.JobMetrics;
import io.qwenedit.queue.JobQueue;
import io.qwenedit.redis.RedisCommands;
import io.qwenedit.supervision.SupervisedVerticle;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/**
 * Runs the queue's reaper every {@code REAPER_INTERVAL}: jobs whose lease ran out go back in line (or to the
 * dead-letter set after too many), due retries are promoted, bounded sets trimmed. Safe on every worker at once.
 */
public final class ReaperVerticle extends SupervisedVerticle {
  private final Config config;
  private RedisCommands redis;
  private JobQueue queue;
  private long timer = -1;
  private boolean reaping;
  private long requeued;
  private long dead;

  public ReaperVerticle(Config config) {
    super(config.worker().testSwitches());
    this.config = config;
  }

  @Override
  public String name() {
    return "reaper";
  }

  @Override
  protected long progressDueWithinMs() {
    return 3 * config.queue().reaperInterval().toMillis() + 2 * config.redis().commandTimeout().toMillis();
  }

  @Override
  protected JsonObject detail() {
    return new JsonObject().put("requeued", requeued).put("dead_lettered", dead);
  }

  @Override
  protected Future<?> startService() {
    redis = new RedisCommands(vertx, config.redis(), "reaper");
    queue = new JobQueue(redis, config.queue());
    timer = vertx.setPeriodic(config.queue().reaperInterval().toMillis(), t -> reap());
    return Future.succeededFuture();
  }

  @Override
  protected Future<?> stopService() {
    vertx.cancelTimer(timer);
    return redis.close();
  }

  private void reap() {
    if (reaping || stalled()) {
      return;
    }
    reaping = true;
    queue.reap().onSuccess(r -> {
      requeued += r.requeued().size();
      dead += r.dead().size();
      if (!r.requeued().isEmpty() || !r.dead().isEmpty()) {
        JobMetrics.of(vertx).reaped(r.requeued().size(), r.dead().size());
      }
    }).onComplete(ar -> {
      reaping = false;
      progressed();
    });
  }
}
