package io.qwenedit.health;

import io.qwenedit.config.Config;
import io.qwenedit.metrics.QueueMetricsVerticle;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Starts the process's health and metrics server ({@link HealthServerVerticle} on {@code HEALTH_PORT}) and the
 * deployment-wide queue gauges ({@link QueueMetricsVerticle}) once per Vert.x instance, however many roles ask: the
 * worker, the bot, the API and {@code all} each call {@link #ensure} and share the one server.
 */
public final class HealthServer {
  private static final Map<Vertx, Future<Void>> STARTED = new WeakHashMap<>();

  private HealthServer() {}

  /** Deploys both verticles on the first call for this Vert.x; later calls get the same future. */
  public static Future<Void> ensure(Vertx vertx, Config config) {
    synchronized (STARTED) {
      Future<Void> existing = STARTED.get(vertx);
      if (existing != null && !existing.failed()) {
        return existing;
      }
      Future<Void> started = vertx.deployVerticle(new QueueMetricsVerticle(config))
          .compose(metricsId -> vertx.deployVerticle(new HealthServerVerticle(config.health()))
              .recover(err -> vertx.undeploy(metricsId).transform(x -> Future.<String>failedFuture(err))))
          .mapEmpty();
      STARTED.put(vertx, started);
      return started;
    }
  }
}
