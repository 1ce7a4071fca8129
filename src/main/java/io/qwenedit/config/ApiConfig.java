package io.qwenedit.config;

import java.time.Duration;
import java.util.List;

/**
 * The HTTP API role's settings.
 *
 * @param host bind address of the API ({@code HTTP_HOST})
 * @param port API port ({@code HTTP_PORT}); it also serves /health/* and /metrics
 * @param keys accepted API keys ({@code API_KEYS}); empty = open, but only to requests from this machine
 * @param ratePerMinute job submissions per minute allowed per API key ({@code API_RATE_LIMIT})
 * @param rateBurst submissions a key may make at once before the per-minute rate applies ({@code API_RATE_BURST})
 * @param queueFullRetryAfter the Retry-After given when the queue is over its depth ({@code API_QUEUE_FULL_RETRY_AFTER})
 * @param eventsMaxDuration longest life of one Server-Sent Events stream; the client reconnects after it
 * @param eventsKeepAlive interval of the SSE keep-alive comment, so proxies do not close a quiet stream
 */
public record ApiConfig(
    String host,
    int port,
    List<String> keys,
    int ratePerMinute,
    int rateBurst,
    Duration queueFullRetryAfter,
    Duration eventsMaxDuration,
    Duration eventsKeepAlive) {

  static ApiConfig from(Settings s) {
    List<String> keys = s.list("API_KEYS");
    for (String k : keys) {
      if (k.length() < 16 || !k.matches("[\\x21-\\x7e]+")) {
        // The key itself is never echoed: error messages end up in logs.
        throw new ConfigException("Invalid setting API_KEYS (from " + s.source("API_KEYS") + "): every key must be at least"
            + " 16 printable characters without spaces or commas (one of them has " + k.length() + "); generate one with"
            + " e.g. 'openssl rand -hex 24'");
      }
    }
    return new ApiConfig(
        s.string("HTTP_HOST", "0.0.0.0"),
        s.port("HTTP_PORT", 8080),
        List.copyOf(keys),
        (int) s.integer("API_RATE_LIMIT", 30, 1, 1_000_000),
        (int) s.integer("API_RATE_BURST", 10, 1, 1_000_000),
        s.seconds("API_QUEUE_FULL_RETRY_AFTER", Duration.ofSeconds(30), Duration.ofSeconds(1), Duration.ofHours(1)),
        s.seconds("API_EVENTS_MAX_DURATION", Duration.ofHours(1), Duration.ofSeconds(1), Duration.ofDays(1)),
        s.seconds("API_EVENTS_KEEPALIVE", Duration.ofSeconds(15), Duration.ofMillis(100), Duration.ofMinutes(10)));
  }

  /** True when no API key is configured: only requests from this machine are served. */
  public boolean open() {
    return keys.isEmpty();
  }

  @Override
  public String toString() {
    // Never print the keys themselves.
    return "ApiConfig[" + host + ":" + port + ", " + keys.size() + " API key(s), " + ratePerMinute + "/min burst " + rateBurst + "]";
  }
}
