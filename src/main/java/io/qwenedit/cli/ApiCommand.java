package io.qwenedit.cli;

import io.qwenedit.api.ApiRole;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code api}: the HTTP API with health and metrics, as a long-running service. */
final class ApiCommand implements Command {
  private static final Logger LOG = LoggerFactory.getLogger(ApiCommand.class);

  @Override
  public String name() {
    return "api";
  }

  @Override
  public String summary() {
    return "HTTP API: submit edits, follow them (Server-Sent Events), fetch results; plus /health and /metrics";
  }

  @Override
  public String usage() {
    return """
        Usage: java -jar qwenedit.jar api

        Serves the HTTP API on HTTP_PORT (default 8080): POST /v1/jobs, GET /v1/jobs/{id},
        GET /v1/jobs/{id}/result, GET /v1/jobs/{id}/events, DELETE /v1/jobs/{id}; and
        /health/live, /health/ready and /metrics on HTTP_PORT and on HEALTH_PORT (default 8081).

        Settings (conf/config.json, .env or the environment; docs/configuration.md):
          HTTP_HOST, HTTP_PORT       where the API listens
          API_KEYS                   comma-separated keys; none = answer only requests from this machine
          API_RATE_LIMIT, API_RATE_BURST   submissions per minute per key, and how many at once
          HEALTH_HOST, HEALTH_PORT   where the health and metrics server listens
          REDIS_URL or REDIS_HOST/REDIS_PORT/REDIS_DB   the queue

        The calls, with curl examples: docs/api.md. Metrics: docs/metrics.md.
        Stops cleanly on SIGTERM or Ctrl+C.
        """;
  }

  @Override
  public int run(Args args, CliContext ctx) throws Exception {
    args.noMorePositional(0);
    return Service.start(name(), ctx, Duration.ofSeconds(30), vertx -> ApiRole.deploy(vertx, ctx.config())
        .map(id -> () -> LOG.info("stopping the API")));
  }
}
