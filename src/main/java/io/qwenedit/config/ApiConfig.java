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
 * @param idleTimeout a connection on which nothing is read or written for this long is closed ({@code API_IDLE_TIMEOUT}):
 *                    a client that stalls in the middle of an upload does not hold its connection for good
 */
public record ApiConfig(
    String host,
    int port,
    List<String> keys,
    int ratePerMinute,
    int rateBurst,
    Duration queueFullRetryAfter,
    Duration eventsMaxDuration,
    Duration eventsKeepAlive,
    Duration idleTimeout) {

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
    Duration keepAlive = s.seconds("API_EVENTS_KEEPALIVE", Duration.ofSeconds(15), Duration.ofMillis(100), Duration.ofMinutes(10));
    Duration idle = s.seconds("API_IDLE_TIMEOUT", Duration.ofSeconds(60), Duration.ofSeconds(1), Duration.ofHours(1));
    if (keepAlive.multipliedBy(2).compareTo(idle) > 0) {
      // a quiet event stream is only kept open by its keep-alive comments, which may come a little late on a busy machine
      throw new ConfigException("Invalid settings API_EVENTS_KEEPALIVE=" + s.string("API_EVENTS_KEEPALIVE", "15s") + " (from "
          + s.source("API_EVENTS_KEEPALIVE") + ") and API_IDLE_TIMEOUT=" + s.string("API_IDLE_TIMEOUT", "60s") + " (from "
          + s.source("API_IDLE_TIMEOUT") + "): the keep-alive must be at most half the idle timeout, or quiet event streams"
          + " are closed as idle connections");
    }
    return new ApiConfig(
        s.string("HTTP_HOST", "0.0.0.0"),
        s.port("HTTP_PORT", 8080),
        List.copyOf(keys),
        (int) s.integer("API_RATE_LIMIT", 30, 1, 1_000_000),
        (int) s.integer("API_RATE_BURST", 10, 1, 1_000_000),
        s.seconds("API_QUEUE_FULL_RETRY_AFTER", Duration.ofSeconds(30), Duration.ofSeconds(1), Duration.ofHours(1)),
        s.seconds("API_EVENTS_MAX_DURATION", Duration.ofHours(1), Duration.ofSeconds(1), Duration.ofDays(1)),
        keepAlive,
        idle);
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
