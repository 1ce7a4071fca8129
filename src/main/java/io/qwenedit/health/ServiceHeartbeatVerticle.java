package io.qwenedit.health;

import io.qwenedit.cli.Main;
import io.qwenedit.config.Config;
import io.qwenedit.queue.Keys;
import io.qwenedit.queue.Registry;
import io.qwenedit.redis.RedisCommands;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a bot or API instance's entry in the services registry ({@code <prefix>service:<id>}) alive, so
 * {@code status} shows every part of the deployment and not only the workers: announced at start and every
 * {@link #INTERVAL}, it expires {@link #TTL} after the process stops announcing and is removed at once on a clean
 * stop. Redis trouble is logged once per outage and never stops the role.
 */
public final class ServiceHeartbeatVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(ServiceHeartbeatVerticle.class);
  public static final Duration INTERVAL = Duration.ofSeconds(10);
  /** Local event-bus address: a message (any body) makes every service heartbeat of this process announce now. */
  public static final String ANNOUNCE = "qwenedit.service.announce";
  public static final Duration TTL = Duration.ofSeconds(35);

  private final Config config;
  private final String role;
  private final String id;
  private final Supplier<JsonObject> details;
  private final long startedAt = System.currentTimeMillis();
  private RedisCommands redis;
  private Registry registry;
  private String host;
  private long timer = -1;
  private long settleTimer = -1;
  private boolean failing;
  private boolean stopped;
  private MessageConsumer<Object> announceNow;

  /** {@code details}: what this role adds to its entry (read at every announce, on this verticle's event loop). */
  public ServiceHeartbeatVerticle(Config config, String role, String id, Supplier<JsonObject> details) {
    this.config = config;
    this.role = role;
    this.id = id;
    this.details = details;
  }

  @Override
  public Future<?> start() {
    redis = new RedisCommands(vertx, config.redis(), role + "-heartbeat");
    registry = Registry.services(redis, new Keys(config.redis().prefix()));
    // a host-name lookup may wait on DNS: once, on a worker thread
    return vertx.executeBlocking(ServiceHeartbeatVerticle::hostName).onSuccess(h -> {
      host = h;
      timer = vertx.setPeriodic(INTERVAL.toMillis(), t -> announce());
      announceNow = vertx.eventBus().localConsumer(ANNOUNCE, m -> announce());
      announce();
      // once more when the role has settled (a bot instance knows by then whether it is the active one)
      settleTimer = vertx.setTimer(1_000, t -> announce());
    });
  }

  @Override
  public Future<?> stop() {
    stopped = true;
    vertx.cancelTimer(timer);
    vertx.cancelTimer(settleTimer);
    Future<Void> unregistered = announceNow == null ? Future.succeededFuture() : announceNow.unregister();
    return unregistered.eventually(() -> registry.remove(id).otherwiseEmpty()).eventually(() -> redis.close());
  }

  private void announce() {
    if (stopped) {
      return;
    }
    // every entry has every field of docs/operations.md (`status --json`), null where the role has none
    JsonObject entry = new JsonObject().put("role", role).put("host", host).put("pid", ProcessHandle.current().pid())
        .put("version", Main.VERSION).put("started_at", startedAt).put("at", System.currentTimeMillis())
        .putNull("active").putNull("mode").putNull("port").putNull("open");
    try {
      JsonObject more = details.get();
      if (more != null) {
        entry.mergeIn(more);
      }
    } catch (RuntimeException e) {
      LOG.warn("{} {}: its status details could not be read ({}); announced without them", role, id, e.toString());
    }
    registry.announce(id, entry, TTL).onComplete(ar -> {
      if (ar.failed() && !failing) {
        LOG.warn("{} {}: cannot announce itself in Redis ({}); status will not list it until Redis answers", role, id,
            ar.cause().getMessage());
      } else if (ar.succeeded() && failing) {
        LOG.info("{} {}: announced in Redis again", role, id);
      }
      failing = ar.failed();
    });
  }

  /** This machine's host name, or "unknown"; may wait on DNS, so call it off the event loop. */
  public static String hostName() {
    try {
      return java.net.InetAddress.getLocalHost().getHostName();
    } catch (Exception e) {
      return "unknown";
    }
  }
}
