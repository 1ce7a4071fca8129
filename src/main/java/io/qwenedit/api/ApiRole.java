package io.qwenedit.api;

import io.qwenedit.config.Config;
import io.qwenedit.config.ConfigException;
import io.qwenedit.health.HealthServer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

/**
 * The API role on a given Vert.x: the {@link HttpApiVerticle} on {@code HTTP_PORT} and the process's health and
 * metrics server on {@code HEALTH_PORT} (shared with any other role in the same process). Used by the {@code api}
 * command and by {@code all} and {@code demo}, which run several roles in one process.
 */
public final class ApiRole {
  private ApiRole() {}

  /** Resolves with the API verticle's deployment id once both servers listen. */
  public static Future<String> deploy(Vertx vertx, Config config) {
    if (config.api().port() == config.health().port()) {
      return Future.failedFuture(new ConfigException("HTTP_PORT and HEALTH_PORT are both " + config.api().port()
          + ": they must differ (the API port serves /health and /metrics as well, so nothing is lost)"));
    }
    return HealthServer.ensure(vertx, config).compose(v -> vertx.deployVerticle(new HttpApiVerticle(config)));
  }
}
