package io.qwenedit.cli;

import io.qwenedit.bot.BotRole;
import io.qwenedit.config.Config;
import io.qwenedit.health.HealthServer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** {@code bot}: runs the Telegram bot until the process is stopped (SIGTERM stops it cleanly). */
final class BotCommand implements Command {
  @Override
  public String name() {
    return "bot";
  }

  @Override
  public String summary() {
    return "run the Telegram bot (long polling, or webhook with BOT_MODE=webhook)";
  }

  @Override
  public String usage() {
    return """
        Usage: java -jar qwenedit.jar bot

        Runs the Telegram bot: people send a photo with an instruction, the bot queues the
        edit, shows its progress and sends the result back. The token comes from
        TELEGRAM_BOT_TOKEN (environment or .env); TELEGRAM_API_URL points at a local Bot API
        server if you run one. Several instances may run against one Redis: one is active,
        the others wait and take over when it stops. Settings: docs/configuration.md;
        what people see and how to operate it: docs/bot.md. Health and metrics are served on
        HEALTH_PORT (default 8081): /health/live, /health/ready (bot/leader, bot/poll,
        bot/delivery), /metrics. Stops cleanly on SIGTERM or Ctrl+C.

        Exit codes: 0 stopped cleanly, 1 failed to start, 2 bad configuration (e.g. a missing token).
        """;
  }

  @Override
  public int run(Args args, CliContext ctx) throws Exception {
    args.noMorePositional(0);
    Config config = ctx.config();
    config.bot().requireToken(); // a missing or malformed token: one line, exit 2, before anything starts
    return Service.start(name(), ctx, Duration.ofMinutes(2), vertx -> BotRole.deploy(vertx, config)
        .compose(id -> HealthServer.ensure(vertx, config).map(v -> (Service.Running)
            // the lease is given back on the way, so a waiting instance takes over at once
            () -> vertx.undeploy(id).await(30, TimeUnit.SECONDS))));
  }
}
