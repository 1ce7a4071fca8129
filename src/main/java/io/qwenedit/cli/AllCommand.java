package io.qwenedit.cli;

import io.qwenedit.config.Config;
import java.time.Duration;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code all}: every role in one process (the single-host default): worker, HTTP API, health and metrics, and the bot. */
final class AllCommand implements Command {
  private static final Logger LOG = LoggerFactory.getLogger(AllCommand.class);

  @Override
  public String name() {
    return "all";
  }

  @Override
  public String summary() {
    return "every role in one process: worker + HTTP API + health/metrics (+ the bot when TELEGRAM_BOT_TOKEN is set)";
  }

  @Override
  public String usage() {
    return """
        Usage: java -jar qwenedit.jar all

        Runs the worker (one GPU slot per ComfyUI in COMFYUI_URL or COMFYUI_URLS), the HTTP API on
        HTTP_PORT (default 8080), the health and metrics server on HEALTH_PORT (default 8081) and,
        when TELEGRAM_BOT_TOKEN is set, the Telegram bot, in one process on one Vert.x. The single-host
        default; on several hosts run 'worker', 'api' and 'bot' separately (docs/operations.md).
        Logs to the console and to LOG_DIR/all.log. Stops gracefully on SIGTERM or Ctrl+C: the worker
        first (no new jobs; running ones get WORKER_SHUTDOWN_GRACE, the rest go back to the queue),
        then the rest; exit code 0.
        """;
  }

  @Override
  public int run(Args args, CliContext ctx) throws Exception {
    args.noMorePositional(0);
    Config config = ctx.config();
    return Service.start(name(), ctx, Duration.ofMinutes(2), vertx -> RoleSet.deploy(vertx, config).map(roles -> {
      LOG.info("qwenedit all started: {}; API on {}:{}, health and metrics on {}:{}", String.join(", ", roles.roles()),
          config.api().host(), config.api().port(), config.health().host(), config.health().port());
      return roles::stop;
    }));
  }
}
