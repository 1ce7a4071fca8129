package io.qwenedit.config;

import java.time.Duration;

/**
 * The health and metrics server every role runs (/health/live, /health/ready, /metrics).
 *
 * @param host bind address ({@code HEALTH_HOST})
 * @param port port of the health server ({@code HEALTH_PORT}); the API port serves the same endpoints too
 * @param checkTimeout time limit of one readiness or liveness procedure ({@code HEALTH_CHECK_TIMEOUT}): a hung
 *     dependency makes its check fail after this, it never hangs the endpoint
 * @param queueMetricsInterval how often the deployment-wide queue gauges are read from Redis
 *     ({@code METRICS_QUEUE_INTERVAL})
 */
public record HealthConfig(String host, int port, Duration checkTimeout, Duration queueMetricsInterval) {

  static HealthConfig from(Settings s) {
    return new HealthConfig(
        s.string("HEALTH_HOST", "0.0.0.0"),
        s.port("HEALTH_PORT", 8081),
        s.seconds("HEALTH_CHECK_TIMEOUT", Duration.ofSeconds(2), Duration.ofMillis(50), Duration.ofMinutes(1)),
        s.seconds("METRICS_QUEUE_INTERVAL", Duration.ofSeconds(5), Duration.ofMillis(100), Duration.ofMinutes(10)));
  }
}
