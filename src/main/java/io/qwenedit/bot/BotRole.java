package io.qwenedit.bot;

import io.qwenedit.config.Config;
import io.qwenedit.config.ConfigException;
import io.qwenedit.health.ServiceHeartbeatVerticle;
import io.vertx.core.Deployable;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whole Telegram bot as one deployable unit, for the {@code bot} command and for {@code all}/{@code demo}, which
 * run it beside other roles on one Vert.x: the sender, the update handler, the webhook endpoint (webhook mode), and
 * the leader, which runs the poller, the status editor and the result delivery on the one active instance.
 * Undeploying it stops every part.
 */
public final class BotRole extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(BotRole.class);

  private final Config config;
  private final String instanceId;

  private BotRole(Config config, String instanceId) {
    this.config = config;
    this.instanceId = instanceId;
  }

  /**
   * Deploys the bot; resolves with the deployment id once it runs (undeploy that id to stop it). Fails with a
   * {@link ConfigException} when the token is missing or malformed.
   */
  public static Future<String> deploy(Vertx vertx, Config config) {
    try {
      config.bot().requireToken();
    } catch (ConfigException e) {
      return Future.failedFuture(e);
    }
    byte[] suffix = new byte[3];
    new SecureRandom().nextBytes(suffix);
    // Unique per run, so a restarted process is a new consumer of the outcome stream and a new lease owner.
    String instance = config.bot().instanceId() + "-" + HexFormat.of().formatHex(suffix);
    return vertx.deployVerticle(new BotRole(config, instance));
  }

  public String instanceId() {
    return instanceId;
  }

  @Override
  public Future<?> start() {
    LOG.info("Telegram bot starting: instance {}, {} mode, Bot API at {}", instanceId, config.bot().mode(), config.bot().apiUrl());
    List<Deployable> always = new ArrayList<>();
    always.add(new TelegramSenderVerticle(config.bot()));
    always.add(new TelegramBotVerticle(config));
    if (config.bot().webhook()) {
      always.add(new TelegramWebhookVerticle(config));
    }
    BotLeaderVerticle leader = new BotLeaderVerticle(config, instanceId, this::leaderParts);
    always.add(leader);
    // listed by `status`: every bot instance, and which one is active
    always.add(new ServiceHeartbeatVerticle(config, "bot", instanceId,
        () -> new JsonObject().put("mode", config.bot().mode()).put("active", leader.leader())));
    Future<Void> chain = Future.succeededFuture();
    for (Deployable d : always) {
      chain = chain.compose(v -> vertx.deployVerticle(d).mapEmpty());
    }
    return chain;
  }

  /** Fresh instances of what only the active instance runs; the poller last, so it starts once the rest is ready. */
  private List<Deployable> leaderParts() {
    List<Deployable> l = new ArrayList<>();
    l.add(new ResultDeliveryVerticle(config, instanceId));
    l.add(new JobStatusVerticle(config));
    if (!config.bot().webhook()) {
      l.add(new TelegramPollerVerticle(config));
    }
    return l;
  }

  @Override
  public Future<?> stop() {
    // Vert.x has already undeployed the parts (children go before their parent), side by side: each part copes
    // with the others going away (an update not handled keeps the offset before it; a send not made is retried).
    LOG.info("Telegram bot instance {} stopped", instanceId);
    return Future.succeededFuture();
  }
}
