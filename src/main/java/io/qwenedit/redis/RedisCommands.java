package io.qwenedit.redis;

import io.qwenedit.config.RedisConfig;
import io.qwenedit.metrics.JobMetrics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pooled client for ordinary (non-blocking) commands. Every command has a time limit; when one is exceeded the
 * connection it sits on may be half-open, and the Vert.x pool would hand that connection out again, so the whole
 * client is replaced. Lua scripts go through {@link #eval}, which falls back from EVALSHA to EVAL after a restart.
 */
public final class RedisCommands {
  private static final Logger LOG = LoggerFactory.getLogger(RedisCommands.class);

  private final Vertx vertx;
  private final RedisConfig cfg;
  private final String name;
  private final long timeoutMs;
  private final AtomicLong replacements = new AtomicLong();
  private final AtomicLong timeouts = new AtomicLong();
  private volatile Redis client;
  private volatile boolean closed;

  public RedisCommands(Vertx vertx, RedisConfig cfg, String name) {
    this.vertx = vertx;
    this.cfg = cfg;
    this.name = name;
    this.timeoutMs = cfg.commandTimeout().toMillis();
    this.client = RedisClients.create(vertx, cfg, cfg.poolSize(), name);
  }

  public RedisConfig config() {
    return cfg;
  }

  public Future<Response> send(Request request) {
    Redis c = client;
    return guard(c, c.send(request), request);
  }

  public Future<List<Response>> batch(List<Request> requests) {
    Redis c = client;
    return guard(c, c.batch(requests), requests.isEmpty() ? null : requests.get(0));
  }

  public Future<Response> send(Command cmd, Object... args) {
    return send(Request.cmd(cmd, args));
  }

  /** Runs a script by its SHA; after a Redis restart (NOSCRIPT) sends the source once, which caches it again. */
  public Future<Response> eval(LuaScript script, List<String> keys, List<?> args) {
    return send(scriptRequest(Command.EVALSHA, script.sha(), keys, args))
        .recover(err -> {
          if (err.getMessage() != null && err.getMessage().startsWith("NOSCRIPT")) {
            return send(scriptRequest(Command.EVAL, script.source(), keys, args));
          }
          return Future.failedFuture(err);
        });
  }

  private static Request scriptRequest(Command cmd, String shaOrSource, List<String> keys, List<?> args) {
    Request r = Request.cmd(cmd).arg(shaOrSource).arg(keys.size());
    keys.forEach(r::arg);
    for (Object a : args) {
      if (a instanceof byte[] b) {
        r.arg(b);
      } else {
        r.arg(String.valueOf(a));
      }
    }
    return r;
  }

  private <T> Future<T> guard(Redis c, Future<T> f, Request request) {
    return f.timeout(timeoutMs, TimeUnit.MILLISECONDS).recover(err -> {
      if (err instanceof TimeoutException) {
        timeouts.incrementAndGet();
        replace(c, "no reply within " + timeoutMs + " ms" + (request == null ? "" : " to " + request.command()));
        return Future.failedFuture(new RedisUnavailableException(
            "Redis at " + cfg.displayAddress() + " did not answer within " + timeoutMs + " ms", err));
      }
      return Future.failedFuture(RedisUnavailableException.wrap(cfg, err));
    });
  }

  /** Closes the client a stuck command sits on and makes a fresh one (once per stuck client). */
  private synchronized void replace(Redis stuck, String reason) {
    if (closed || stuck != client) {
      return;
    }
    replacements.incrementAndGet();
    JobMetrics.of(vertx).redisReconnect(name);
    LOG.warn("Replacing the Redis client '{}' for {}: {}", name, cfg.displayAddress(), reason);
    client = RedisClients.create(vertx, cfg, cfg.poolSize(), name);
    stuck.close();
  }

  public long replacements() {
    return replacements.get();
  }

  public long timeouts() {
    return timeouts.get();
  }

  public Future<Void> close() {
    closed = true;
    return client.close().otherwiseEmpty().mapEmpty();
  }
}
