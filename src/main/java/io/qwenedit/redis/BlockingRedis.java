package io.qwenedit.redis;

import io.qwenedit.config.RedisConfig;
import io.qwenedit.metrics.JobMetrics;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A dedicated client (one connection) for one blocking command at a time (BZPOPMIN and the like). The Vert.x Redis
 * client has no command timeout and closing a pooled connection does not cancel a pending blocking call, so each call
 * is guarded by a timer of block time + grace: when it fires, the whole client is closed and a new one made, and the
 * call fails with {@link GuardTimeoutException}. Never blocks with timeout 0.
 */
public final class BlockingRedis {
  private static final Logger LOG = LoggerFactory.getLogger(BlockingRedis.class);

  /** The guard fired: the connection was silent past block time + grace and has been replaced. */
  public static final class GuardTimeoutException extends RuntimeException {
    GuardTimeoutException(String message) {
      super(message, null, false, false);
    }
  }

  private final Vertx vertx;
  private final RedisConfig cfg;
  private final String name;
  private final long graceMs;
  private Redis client;
  private boolean closed;

  public BlockingRedis(Vertx vertx, RedisConfig cfg, String name, long graceMs) {
    this.vertx = vertx;
    this.cfg = cfg;
    this.name = name;
    this.graceMs = graceMs;
    this.client = RedisClients.create(vertx, cfg, 1, name);
  }

  /** Sends a blocking command whose server-side timeout is {@code blockMs}; fails if no reply by blockMs + grace. */
  public synchronized Future<Response> send(Request request, long blockMs) {
    if (closed) {
      return Future.failedFuture(new IllegalStateException("blocking client '" + name + "' is closed"));
    }
    Redis c = client;
    Promise<Response> promise = Promise.promise();
    long guardMs = blockMs + graceMs;
    long timer = vertx.setTimer(guardMs, id -> {
      if (promise.tryFail(new GuardTimeoutException("Redis at " + cfg.displayAddress() + " gave no reply to a "
          + blockMs + " ms blocking wait within " + guardMs + " ms; the connection was replaced"))) {
        replace(c, "blocking wait silent for " + guardMs + " ms");
      }
    });
    c.send(request).onComplete(ar -> {
      vertx.cancelTimer(timer);
      if (ar.succeeded()) {
        promise.tryComplete(ar.result());
      } else {
        promise.tryFail(RedisUnavailableException.wrap(cfg, ar.cause()));
      }
    });
    return promise.future();
  }

  private synchronized void replace(Redis stale, String reason) {
    if (closed || stale != client) {
      return;
    }
    JobMetrics.of(vertx).redisReconnect(name);
    LOG.warn("Replacing blocking Redis client '{}' for {}: {}", name, cfg.displayAddress(), reason);
    client = RedisClients.create(vertx, cfg, 1, name);
    stale.close();
  }

  public synchronized Future<Void> close() {
    closed = true;
    return client.close().otherwiseEmpty().mapEmpty();
  }
}
