package io.qwenedit.redis;

import io.qwenedit.config.RedisConfig;
import io.qwenedit.metrics.JobMetrics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client for ordinary (non-blocking) commands: a few held connections ({@code REDIS_POOL_SIZE}), used round-robin
 * with pipelining (Vert.x's connection-less {@code Redis.send} borrows a whole connection per command, which caps
 * concurrency at the pool size). Every command has a time limit; when one is exceeded the connection may be
 * half-open, so that connection's client is closed (which really closes the socket) and a fresh one is made on the
 * next command. A lost connection is replaced the same way. Lua scripts go through {@link #eval}, which falls back
 * from EVALSHA to EVAL after a restart.
 */
public final class RedisCommands {
  private static final Logger LOG = LoggerFactory.getLogger(RedisCommands.class);

  private final Vertx vertx;
  private final RedisConfig cfg;
  private final String name;
  private final long timeoutMs;
  private final Slot[] slots;
  private final AtomicInteger next = new AtomicInteger();
  private volatile boolean closed;

  /** One held connection and the client that owns its socket. */
  private final class Slot {
    private final int index;
    private Redis client;
    private Future<RedisConnection> conn;

    Slot(int index) {
      this.index = index;
    }

    synchronized Future<RedisConnection> connection() {
      if (closed) {
        return Future.failedFuture(new IllegalStateException("Redis client '" + name + "' is closed"));
      }
      if (conn == null || conn.failed()) {
        if (client != null) {
          client.close();
        }
        Redis c = RedisClients.create(vertx, cfg, 1, name + "-" + index);
        client = c;
        Future<RedisConnection> f = c.connect();
        conn = f;
        f.onSuccess(cn -> {
          cn.exceptionHandler(err -> drop(f, "connection error: " + err.getMessage()));
          cn.endHandler(v -> drop(f, "connection closed by the server"));
        });
        return f; // not the field: a handler that already ran (a connect over at once) may have changed it
      }
      return conn;
    }

    /** Forgets a connection (if it is still the current one) and closes its socket. */
    synchronized void drop(Future<RedisConnection> which, String reason) {
      if (which != conn) {
        return;
      }
      conn = null;
      Redis c = client;
      client = null;
      if (!closed) {
        JobMetrics.of(vertx).redisReconnect(name);
        LOG.warn("Redis client '{}' for {}: dropping connection {} ({})", name, cfg.displayAddress(), index, reason);
      }
      if (c != null) {
        c.close();
      }
    }

    synchronized Future<Void> close() {
      conn = null;
      return client == null ? Future.succeededFuture() : client.close().otherwiseEmpty().mapEmpty();
    }
  }

  public RedisCommands(Vertx vertx, RedisConfig cfg, String name) {
    this.vertx = vertx;
    this.cfg = cfg;
    this.name = name;
    this.timeoutMs = cfg.commandTimeout().toMillis();
    this.slots = new Slot[cfg.poolSize()];
    for (int i = 0; i < slots.length; i++) {
      slots[i] = new Slot(i);
    }
  }

  public RedisConfig config() {
    return cfg;
  }

  public Future<Response> send(Request request) {
    return run(c -> c.send(request), request.command().toString());
  }

  public Future<List<Response>> batch(List<Request> requests) {
    return run(c -> c.batch(requests), requests.isEmpty() ? "batch" : "batch of " + requests.get(0).command());
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
      } else if (a instanceof io.vertx.core.buffer.Buffer b) {
        r.arg(b);
      } else {
        r.arg(String.valueOf(a));
      }
    }
    return r;
  }

  private <T> Future<T> run(Function<RedisConnection, Future<T>> op, String what) {
    Slot slot = slots[Math.floorMod(next.getAndIncrement(), slots.length)];
    Future<RedisConnection> conn = slot.connection();
    return conn.compose(op::apply)
        .timeout(timeoutMs, TimeUnit.MILLISECONDS)
        .recover(err -> {
          if (err instanceof TimeoutException) {
            slot.drop(conn, "no reply within " + timeoutMs + " ms to " + what);
            return Future.failedFuture(new RedisUnavailableException(
                "Redis at " + cfg.displayAddress() + " did not answer within " + timeoutMs + " ms", err));
          }
          Throwable wrapped = RedisUnavailableException.wrap(cfg, err);
          if (wrapped instanceof RedisUnavailableException u && u.connectionLost()) {
            slot.drop(conn, err.getMessage());
          }
          return Future.failedFuture(wrapped);
        });
  }

  public Future<Void> close() {
    closed = true;
    List<Future<Void>> all = java.util.Arrays.stream(slots).map(Slot::close).toList();
    return Future.join(all).mapEmpty();
  }
}
