package io.qwenedit.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Where qwenedit's own meters go. A service process builds its Vert.x with {@link #vertxWithMetrics}: Vert.x's own
 * metrics (event bus, HTTP, pools) and ours share one Prometheus registry, scraped at /metrics. Code that records a
 * meter asks {@link #registry(Vertx)}; a Vert.x built another way (tests, CLI) gets a private in-memory registry, so
 * instances never mix their counts.
 */
public final class Meters {
  private static final Map<Vertx, MeterRegistry> REGISTRIES = new WeakHashMap<>();

  private Meters() {}

  /** A Vert.x with Micrometer metrics on a new Prometheus registry, and the native transport where available. */
  public static Vertx vertxWithMetrics(VertxOptions options) {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    options.setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true).setJvmMetricsEnabled(true));
    options.setPreferNativeTransport(true);
    Vertx vertx = Vertx.builder().with(options).withMetrics(new MicrometerMetricsFactory(registry)).build();
    synchronized (REGISTRIES) {
      REGISTRIES.put(vertx, registry);
    }
    return vertx;
  }

  /** The registry for this Vert.x instance (created on first use when it was not built with metrics). */
  public static MeterRegistry registry(Vertx vertx) {
    synchronized (REGISTRIES) {
      return REGISTRIES.computeIfAbsent(vertx, v -> new SimpleMeterRegistry());
    }
  }

  /** The Prometheus registry behind a Vert.x built by {@link #vertxWithMetrics}, or null. */
  public static PrometheusMeterRegistry prometheus(Vertx vertx) {
    MeterRegistry r = registry(vertx);
    return r instanceof PrometheusMeterRegistry p ? p : null;
  }
}
