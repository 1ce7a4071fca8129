package io.qwenedit.redis;

import io.qwenedit.config.RedisConfig;
import io.qwenedit.metrics.JobMetrics;
import io.qwenedit.queue.Backoff;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A pub/sub subscription that stays alive: its own connection, a PING every few seconds that must be answered (a
 * silently dead connection is replaced within ping interval + timeout), and resubscription after any loss, forever,
 * with capped jittered back-off. Messages published while it was away are lost (pub/sub keeps nothing), so
 * {@link #onReconnect} lets the owner reconcile from the durable records.
 */
public final class RedisSubscriber {
  private static final Logger LOG = LoggerFactory.getLogger(RedisSubscriber.class);
  private static final long PING_EVERY_MS = 5_000;
  private static final long PING_TIMEOUT_MS = 3_000;
  private static final Duration BACKOFF_MIN = Duration.ofMillis(100);
  private static final Duration BACKOFF_MAX = Duration.ofSeconds(5);

  private final Vertx vertx;
  private final RedisConfig cfg;
  private final List<String> channels;
  private final BiConsumer<String, String> handler;
  private Runnable reconnectHandler = () -> { };
  private Redis client;
  private RedisConnection conn;
  private long pingTimer = -1;
  private int failures;
  private boolean closed;
  private boolean subscribed;
  private int pendingConfirmations;
  private Promise<Void> confirmation;

  public RedisSubscriber(Vertx vertx, RedisConfig cfg, List<String> channels, BiConsumer<String, String> handler) {
    this.vertx = vertx;
    this.cfg = cfg;
    this.channels = List.copyOf(channels);
    this.handler = handler;
  }

  /**
   * Called on the subscriber's context after every subscription that follows a lost connection or a failed first
   * attempt ({@link #startInBackground}).
   */
  public synchronized RedisSubscriber onReconnect(Runnable r) {
    this.reconnectHandler = r;
    return this;
  }

  /** Subscribes; fails when Redis cannot be reached now (callers decide whether to retry or report). */
  public Future<Void> start() {
    return connect();
  }

  /** Subscribes, and keeps retrying in the background if the first attempt fails. */
  public void startInBackground() {
    connect().onFailure(this::scheduleReconnect);
  }

  private synchronized Future<Void> connect() {
    if (closed) {
      return Future.failedFuture("subscriber closed");
    }
    Redis c = RedisClients.create(vertx, cfg, 1, "subscriber");
    client = c;
    Promise<Void> confirmed = Promise.promise();
    // Vert.x's connect includes a handshake with no time limit of its own: a peer that accepts and stays silent
    // must not park the subscriber for ever.
    return c.connect().timeout(cfg.connectTimeout().toMillis() + PING_TIMEOUT_MS, TimeUnit.MILLISECONDS).compose(cn -> {
      synchronized (this) {
        if (closed) {
          cn.close();
          return Future.failedFuture("subscriber closed");
        }
        conn = cn;
        pendingConfirmations = channels.size();
        confirmation = confirmed;
      }
      cn.handler(this::onMessage);
      cn.exceptionHandler(err -> lost(cn, err));
      cn.endHandler(v -> lost(cn, new IllegalStateException("connection ended")));
      Request sub = Request.cmd(Command.SUBSCRIBE);
      channels.forEach(sub::arg);
      // subscribed only once Redis confirmed every channel (a refusal, e.g. an ACL without the right, never confirms)
      return cn.send(sub).compose(v -> confirmed.future()).timeout(PING_TIMEOUT_MS, TimeUnit.MILLISECONDS)
          .compose(v -> {
            synchronized (this) {
              if (conn != cn) {
                // lost between the confirmation and here (lost() left the retry to this attempt): fail, so it is retried
                return Future.<Void>failedFuture(new IllegalStateException("connection lost while subscribing"));
              }
              failures = 0;
              subscribed = true;
            }
            schedulePing();
            return Future.<Void>succeededFuture();
          });
    }).recover(err -> {
      synchronized (this) {
        if (client == c) {
          // the caller retries this failure: closing must not count as a lost subscription too (a second retry loop)
          conn = null;
        }
      }
      c.close();
      return Future.failedFuture(RedisUnavailableException.wrap(cfg, err));
    });
  }

  private void onMessage(Response msg) {
    if (msg == null || msg.size() < 3) {
      return;
    }
    String kind = msg.get(0).toString();
    if ("subscribe".equals(kind)) {
      Promise<Void> done = null;
      synchronized (this) {
        if (--pendingConfirmations <= 0) {
          done = confirmation;
        }
      }
      if (done != null) {
        done.tryComplete();
      }
    } else if ("message".equals(kind)) {
      try {
        handler.accept(msg.get(1).toString(), msg.get(2).toString());
      } catch (RuntimeException e) {
        LOG.error("pub/sub handler failed for a message on {}", msg.get(1), e);
      }
    }
  }

  private synchronized void schedulePing() {
    if (closed) {
      return;
    }
    RedisConnection pinged = conn;
    pingTimer = vertx.setTimer(PING_EVERY_MS, t -> pinged.send(Request.cmd(Command.PING))
        .timeout(PING_TIMEOUT_MS, TimeUnit.MILLISECONDS)
        .onSuccess(r -> schedulePing())
        .onFailure(err -> lost(pinged, new IllegalStateException("no answer to PING within " + PING_TIMEOUT_MS + " ms", err))));
  }

  private void lost(RedisConnection which, Throwable err) {
    Redis stale;
    boolean wasSubscribed;
    synchronized (this) {
      if (closed || which != conn) {
        return;
      }
      conn = null;
      wasSubscribed = subscribed;
      subscribed = false;
      stale = client;
      vertx.cancelTimer(pingTimer);
    }
    LOG.warn("pub/sub connection to {} lost ({}); resubscribing", cfg.displayAddress(), err.getMessage());
    JobMetrics.of(vertx).redisReconnect("subscriber");
    stale.close();
    // Lost before the subscription was confirmed: the connect under way fails (its confirmation never comes) and its
    // caller retries; retrying here as well would run two loops, each with a subscription of its own in the end.
    if (wasSubscribed) {
      scheduleReconnect(err);
    }
  }

  private void scheduleReconnect(Throwable err) {
    int n;
    synchronized (this) {
      if (closed) {
        return;
      }
      n = ++failures;
    }
    long delay = Backoff.delay(n, BACKOFF_MIN, BACKOFF_MAX, ThreadLocalRandom.current()::nextDouble).toMillis();
    vertx.setTimer(delay, t -> connect()
        .onSuccess(v -> {
          LOG.info("pub/sub resubscribed to {}", channels);
          Runnable r;
          synchronized (this) {
            r = reconnectHandler;
          }
          // Also after a first attempt that failed (startInBackground): whoever read records meanwhile may have missed
          // events, so it must look again either way.
          r.run();
        })
        .onFailure(this::scheduleReconnect));
  }

  /** True while the subscription is established and answering pings (readiness checks report it). */
  public synchronized boolean subscribed() {
    return subscribed && !closed;
  }

  public Future<Void> close() {
    Redis c;
    synchronized (this) {
      closed = true;
      subscribed = false;
      vertx.cancelTimer(pingTimer);
      c = client;
    }
    Promise<Void> p = Promise.promise();
    if (c == null) {
      p.complete();
    } else {
      c.close().onComplete(ar -> p.complete());
    }
    return p.future();
  }
}
