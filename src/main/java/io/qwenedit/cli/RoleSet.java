package io.qwenedit.cli;

import io.qwenedit.api.ApiRole;
import io.qwenedit.bot.BotRole;
import io.qwenedit.config.Config;
import io.qwenedit.supervision.SupervisorVerticle;
import io.qwenedit.worker.WorkerRole;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Several roles on one Vert.x, for {@code all} and {@code demo}: the worker, the HTTP API, the bot when a token is
 * set, and the one health and metrics server they share. Stopping hands the worker's jobs back first (it stops
 * claiming and lets running jobs finish within the grace), then closes the rest.
 */
final class RoleSet {
  private static final Logger LOG = LoggerFactory.getLogger(RoleSet.class);

  private final Vertx vertx;
  private final Config config;
  private final WorkerRole worker;
  private final String botDeployment;

  private RoleSet(Vertx vertx, Config config, WorkerRole worker, String botDeployment) {
    this.vertx = vertx;
    this.config = config;
    this.worker = worker;
    this.botDeployment = botDeployment;
  }

  /** True when TELEGRAM_BOT_TOKEN is set: the bot runs too (a malformed token stops start-up with one line). */
  static boolean botWanted(Config config) {
    return config.bot().token() != null && !config.bot().token().isBlank();
  }

  /**
   * Deploys the API (which starts the shared health server), then the worker, then the bot when TELEGRAM_BOT_TOKEN is
   * set. A failure leaves the caller to close the Vert.x.
   */
  static Future<RoleSet> deploy(Vertx vertx, Config config) {
    return ApiRole.deploy(vertx, config)
        .compose(api -> WorkerRole.deploy(vertx, config, SupervisorVerticle.Options.defaults()))
        .compose(worker -> (botWanted(config) ? BotRole.deploy(vertx, config) : Future.<String>succeededFuture())
            .map(botId -> new RoleSet(vertx, config, worker, botId)));
  }

  List<String> roles() {
    return botDeployment == null ? List.of("api", "worker") : List.of("api", "worker", "bot");
  }

  /** The graceful stop: blocks (call it from the signal's thread, never from an event loop). */
  void stop() throws Exception {
    LOG.info("stopping {}: the worker first, so its running jobs finish or go back to the queue", String.join(", ", roles()));
    worker.shutdown(config.worker().shutdownGrace()).await(config.worker().shutdownGrace().toMillis() + 45_000, TimeUnit.MILLISECONDS);
    if (botDeployment != null) {
      // the bot gives its lease back on the way, so a waiting instance elsewhere takes over at once
      vertx.undeploy(botDeployment).await(30, TimeUnit.SECONDS);
    }
    // closed from this (non-Vert.x) thread: a continuation on the closing event loop would never run
    vertx.close().await(15, TimeUnit.SECONDS);
  }
}
