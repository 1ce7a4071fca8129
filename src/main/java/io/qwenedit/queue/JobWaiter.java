package io.qwenedit.queue;

import io.qwenedit.config.QueueConfig;
import io.qwenedit.config.RedisConfig;
import io.qwenedit.queue.QueueResults.Claimed;
import io.qwenedit.redis.BlockingRedis;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Waits for jobs without polling: one {@code BZPOPMIN} on the queue's wake-up marker, on a dedicated connection,
 * guarded by a client-side timer (block time + grace) that replaces a silent connection. A claim (Lua, atomic with
 * the lease) runs only at start, after a wake-up, after a claim that left more jobs waiting, after any connection
 * trouble, or when a retry falls due; an idle queue costs one blocking call per block time. Connection failures are
 * retried forever with capped, jittered back-off.
 */
public final class JobWaiter {
  private static final Logger LOG = LoggerFactory.getLogger(JobWaiter.class);
  private static final Duration BACKOFF_MIN = Duration.ofMillis(100);
  private static final Duration BACKOFF_MAX = Duration.ofSeconds(5);

  private final Vertx vertx;
  private final JobQueue queue;
  private final BlockingRedis blocking;
  private final String holder;
  private final long blockMs;
  private final AtomicLong lastTurnAt = new AtomicLong(System.currentTimeMillis());
  private final AtomicLong guardFires = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();
  private volatile boolean needClaim = true;
  private volatile long dueAt = -1;
  private volatile int consecutiveFailures;
  private volatile boolean closed;
  private volatile String lastError;

  public JobWaiter(Vertx vertx, JobQueue queue, RedisConfig redisCfg, QueueConfig cfg, String holder) {
    this.vertx = vertx;
    this.queue = queue;
    this.holder = holder;
    this.blockMs = cfg.blockTime().toMillis();
    this.blocking = new BlockingRedis(vertx, redisCfg, "waiter-" + holder, cfg.blockGrace().toMillis());
  }

  /**
   * Resolves with 1..max claimed jobs, or with an empty list when a wait cycle ended without one (so the caller can
   * re-check its capacity). Never fails: Redis trouble is retried inside, with back-off.
   */
  public Future<List<Claimed>> next(int max) {
    Promise<List<Claimed>> result = Promise.promise();
    step(max, result);
    return result.future();
  }

  private void step(int max, Promise<List<Claimed>> result) {
    lastTurnAt.set(System.currentTimeMillis());
    if (closed) {
      result.tryComplete(List.of());
      return;
    }
    if (dueAt >= 0 && System.currentTimeMillis() >= dueAt) {
      needClaim = true;
    }
    if (needClaim) {
      queue.claim(holder, max).onComplete(ar -> {
        if (ar.failed()) {
          retryLater(max, result, "claim", ar.cause());
          return;
        }
        recovered();
        // more waiting: the next call claims at once instead of a blocking wait that would return at once
        needClaim = ar.result().more();
        dueAt = ar.result().nextDueMs() < 0 ? -1 : System.currentTimeMillis() + ar.result().nextDueMs();
        if (!ar.result().jobs().isEmpty()) {
          result.tryComplete(ar.result().jobs());
        } else {
          block(max, result);
        }
      });
    } else {
      block(max, result);
    }
  }

  private void block(int max, Promise<List<Claimed>> result) {
    long wait = blockMs;
    if (dueAt >= 0) {
      wait = Math.max(10, Math.min(wait, dueAt - System.currentTimeMillis()));
    }
    String seconds = String.format(Locale.ROOT, "%.3f", wait / 1000.0);
    blocking.send(Request.cmd(Command.BZPOPMIN).arg(queue.keys().marker()).arg(seconds), wait).onComplete(ar -> {
      if (ar.failed()) {
        if (ar.cause() instanceof BlockingRedis.GuardTimeoutException) {
          guardFires.incrementAndGet();
        }
        retryLater(max, result, "blocking wait", ar.cause());
        return;
      }
      recovered();
      if (ar.result() != null) {
        needClaim = true; // woken by a new job: claim it now
        step(max, result);
      } else {
        result.tryComplete(List.of());
      }
    });
  }

  private void retryLater(int max, Promise<List<Claimed>> result, String what, Throwable err) {
    if (closed) {
      result.tryComplete(List.of()); // closing ends a parked wait with a closed connection: not a failure
      return;
    }
    failures.incrementAndGet();
    needClaim = true; // a wake-up may have been lost with the connection
    int n = ++consecutiveFailures;
    long delay = err instanceof BlockingRedis.GuardTimeoutException ? 0
        : Backoff.delay(n, BACKOFF_MIN, BACKOFF_MAX, ThreadLocalRandom.current()::nextDouble).toMillis();
    lastError = err.getMessage();
    if (n == 1 || n % 20 == 0) {
      LOG.warn("queue {} failed ({} in a row), retrying in {} ms: {}", what, n, delay, err.getMessage());
    }
    if (closed) {
      result.tryComplete(List.of());
      return;
    }
    vertx.setTimer(Math.max(1, delay), t -> step(max, result));
  }

  private void recovered() {
    if (consecutiveFailures > 0) {
      LOG.info("queue wait loop recovered after {} failed attempt(s)", consecutiveFailures);
      consecutiveFailures = 0;
      lastError = null;
    }
  }

  /** Wall-clock ms when the loop last turned, successfully or not (it is alive even while Redis is down). */
  public long lastTurnAt() {
    return lastTurnAt.get();
  }

  public long guardFires() {
    return guardFires.get();
  }

  public long failures() {
    return failures.get();
  }

  /** True while the loop is retrying after errors. */
  public boolean degraded() {
    return consecutiveFailures > 0;
  }

  public String lastError() {
    return lastError;
  }

  /** Stops the loop; a pending blocking wait is abandoned by closing its connection. */
  public Future<Void> close() {
    closed = true;
    return blocking.close();
  }
}
