package io.qwenedit.bot;

import io.qwenedit.config.Config;
import io.qwenedit.health.Health;
import io.qwenedit.health.ServiceHeartbeatVerticle;
import io.qwenedit.redis.RedisCommands;
import io.vertx.core.Deployable;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.Status;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes one bot instance per token the active one, through a Redis lease ({@code <prefix>tg:<bot>:{poll}:leader}):
 * the holder deploys the parts that must run once (the poller, the status editor, the result delivery); the others
 * wait and take over within a lease period when the holder stops or dies. While Redis is unreachable the holder keeps
 * going (nobody else can take the lease either). On stop (Vert.x undeploys the parts first, as children of this
 * verticle) the lease is released, so a waiting instance takes over at once.
 */
public final class BotLeaderVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(BotLeaderVerticle.class);
  private static final long UNDEPLOY_LIMIT_MS = 15_000;
  static final String HEALTH = "bot/leader";

  private final Config config;
  private final String instanceId;
  private final Supplier<List<Deployable>> leaderParts;
  private RedisCommands redis;
  private BotStore store;
  private final List<String> deployed = new ArrayList<>();
  private long timer = -1;
  private volatile boolean leader; // read by the service heartbeat on its own event loop
  private boolean busy;
  private boolean stopped;
  private boolean commandsSet;
  private String lastSeenHolder;
  private boolean redisTroubleLogged;

  /** @param leaderParts makes fresh instances of the verticles only the active instance runs */
  public BotLeaderVerticle(Config config, String instanceId, Supplier<List<Deployable>> leaderParts) {
    this.config = config;
    this.instanceId = instanceId;
    this.leaderParts = leaderParts;
  }

  @Override
  public Future<?> start() {
    redis = new RedisCommands(vertx, config.redis(), "bot-leader");
    store = new BotStore(redis, config);
    Health.of(vertx).readiness().register(HEALTH, 2_000, p -> p.complete(Status.OK(new JsonObject()
        .put("instance", instanceId).put("active", leader).put("active_instance", leader ? instanceId : lastSeenHolder))));
    long every = Math.max(200, config.bot().leaseTtl().toMillis() / 3);
    timer = vertx.setPeriodic(1, every, t -> tick());
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    stopped = true;
    vertx.cancelTimer(timer);
    Health.of(vertx).readiness().unregister(HEALTH);
    deployed.clear(); // already undeployed by Vert.x, as children of this verticle
    Future<Void> released = leader ? store.releaseLease(instanceId).<Void>mapEmpty().otherwiseEmpty() : Future.succeededFuture();
    return released
        .onSuccess(v -> {
          if (leader) {
            LOG.info("bot instance {} stepped down and released the lease", instanceId);
          }
        })
        .eventually(redis::close);
  }

  public boolean leader() {
    return leader;
  }

  private void tick() {
    if (busy || stopped) {
      return;
    }
    busy = true;
    store.holdLease(instanceId, config.bot().leaseTtl()).onComplete(ar -> {
      if (ar.failed()) {
        if (!redisTroubleLogged) {
          redisTroubleLogged = true;
          LOG.warn("bot lease cannot be checked ({}); {}", ar.cause().getMessage(),
              leader ? "this instance stays the active one until Redis answers" : "waiting for Redis");
        }
        busy = false;
        return;
      }
      redisTroubleLogged = false;
      BotStore.Lease lease = ar.result();
      if (lease.held() && !leader) {
        becomeLeader().onComplete(x -> busy = false);
      } else if (!lease.held() && leader) {
        LOG.warn("bot instance {} lost the lease (another instance took it); stepping down", instanceId);
        setLeader(false);
        undeployParts().onComplete(x -> busy = false);
      } else {
        if (!lease.held()) {
          if (!lease.owner().equals(lastSeenHolder)) {
            LOG.info("bot instance {} is waiting: instance {} is the active one", instanceId, lease.owner());
          }
          lastSeenHolder = lease.owner();
        }
        busy = false;
      }
    });
  }

  /** Changes the active flag; `status` learns of it at once (the service heartbeat announces again). */
  private void setLeader(boolean active) {
    if (leader != active) {
      leader = active;
      vertx.eventBus().send(ServiceHeartbeatVerticle.ANNOUNCE, null, new DeliveryOptions().setLocalOnly(true));
    }
  }

  private Future<Void> becomeLeader() {
    LOG.info("bot instance {} is now the active one (polls, edits status messages, delivers results)", instanceId);
    setLeader(true);
    lastSeenHolder = instanceId;
    Future<Void> chain = Future.succeededFuture();
    for (Deployable part : leaderParts.get()) {
      chain = chain.compose(v -> vertx.deployVerticle(part).map(id -> {
        deployed.add(id);
        return null;
      }));
    }
    return chain.onSuccess(v -> setCommands()).recover(err -> {
      LOG.error("bot instance {}: the active parts did not start ({}); giving the lease back", instanceId, err.getMessage(), err);
      setLeader(false);
      return undeployParts().compose(v -> store.releaseLease(instanceId)).<Void>mapEmpty().otherwiseEmpty();
    });
  }

  private Future<Void> undeployParts() {
    Future<Void> chain = Future.succeededFuture();
    List<String> ids = new ArrayList<>(deployed);
    deployed.clear();
    // Reverse order: the poller (deployed last) stops first, so nothing new arrives while the rest shut down.
    for (int i = ids.size() - 1; i >= 0; i--) {
      String id = ids.get(i);
      chain = chain.compose(v -> vertx.undeploy(id).timeout(UNDEPLOY_LIMIT_MS, TimeUnit.MILLISECONDS)
          .otherwise(err -> {
            LOG.warn("bot part {} did not stop within {} ms: {}", id, UNDEPLOY_LIMIT_MS, err.getMessage());
            return null;
          }));
    }
    return chain;
  }

  /** The command menu, per language, once per process. */
  private void setCommands() {
    if (commandsSet) {
      return;
    }
    commandsSet = true;
    Outbox outbox = new Outbox(vertx);
    for (String lang : List.of("en", "ru")) {
      JsonArray cmds = new JsonArray();
      for (String c : List.of("start", "help", "status", "cancel")) {
        cmds.add(new JsonObject().put("command", c).put("description", Texts.get(lang, "cmd_" + c)));
      }
      JsonObject p = new JsonObject().put("commands", cmds);
      if (!lang.equals(config.bot().defaultLanguage())) {
        p.put("language_code", lang);
      }
      outbox.call("setMyCommands", p).onFailure(err -> LOG.info("command menu ({}) not set: {}", lang, err.getMessage()));
    }
  }
}
