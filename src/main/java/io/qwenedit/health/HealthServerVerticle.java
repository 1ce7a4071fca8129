package io.qwenedit.health;

import io.qwenedit.api.ApiErrors;
import io.qwenedit.config.ConfigException;
import io.qwenedit.config.HealthConfig;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small HTTP server for {@code /health/live}, {@code /health/ready} and {@code /metrics} on {@code HEALTH_PORT}:
 * what a load balancer, Kubernetes or Prometheus probes on every role's process.
 */
public final class HealthServerVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(HealthServerVerticle.class);

  private final HealthConfig cfg;
  private HealthEndpoints endpoints;
  private HttpServer server;

  public HealthServerVerticle(HealthConfig cfg) {
    this.cfg = cfg;
  }

  @Override
  public Future<?> start() {
    endpoints = new HealthEndpoints(vertx, cfg.checkTimeout());
    Router router = ApiErrors.install(endpoints.mount(Router.router(vertx)));
    server = vertx.createHttpServer(new HttpServerOptions().setTcpKeepAlive(true));
    return server.requestHandler(router).listen(cfg.port(), cfg.host())
        .onSuccess(s -> LOG.info("health and metrics on http://{}:{} (/health/live, /health/ready, /metrics)", cfg.host(), s.actualPort()))
        .recover(err -> Future.failedFuture(new ConfigException("Cannot serve health checks on " + cfg.host() + ":"
            + cfg.port() + " (HEALTH_HOST:HEALTH_PORT): " + err.getMessage() + ". Choose a free port with HEALTH_PORT.")));
  }

  public int port() {
    return server.actualPort();
  }

  @Override
  public Future<?> stop() {
    return endpoints.close().eventually(() -> server.close());
  }
}
