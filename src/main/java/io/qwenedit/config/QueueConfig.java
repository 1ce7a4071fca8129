package io.qwenedit.config;

import java.time.Duration;

/**
 * How the job queue behaves: leases, retries, dead letters, retention, and the limits checked at enqueue.
 *
 * @param blockTime how long one blocking wait for a job lasts ({@code WORKER_POLLING_INTERVAL}); never a sleep
 * @param blockGrace extra time the client-side guard gives a blocking wait before it replaces the connection
 */
public record QueueConfig(
    Duration blockTime,
    Duration blockGrace,
    Duration lease,
    int maxAttempts,
    int maxStalls,
    Duration retryBase,
    Duration retryMax,
    Duration retention,
    Duration deadRetention,
    int deadMax,
    int maxDepth,
    int eventsMaxLen,
    Duration reaperInterval,
    long maxImageBytes,
    long maxImagePixels,
    int maxPromptChars) {

  static QueueConfig from(Settings s) {
    Duration block = s.seconds("WORKER_POLLING_INTERVAL", Duration.ofSeconds(5), Duration.ofMillis(100), Duration.ofSeconds(60));
    Duration lease = s.seconds("JOB_LEASE_SECONDS", Duration.ofSeconds(30), Duration.ofSeconds(1), Duration.ofHours(2));
    Duration retryBase = s.seconds("JOB_RETRY_BASE", Duration.ofSeconds(5), Duration.ZERO, Duration.ofHours(1));
    Duration retryMax = s.seconds("JOB_RETRY_MAX", Duration.ofMinutes(5), Duration.ZERO, Duration.ofDays(1));
    if (retryMax.compareTo(retryBase) < 0) {
      throw new ConfigException("Invalid setting JOB_RETRY_MAX=\"" + retryMax.toMillis() + "ms\" (from " + s.source("JOB_RETRY_MAX")
          + "): it must not be shorter than JOB_RETRY_BASE (" + retryBase.toMillis() + "ms)");
    }
    return new QueueConfig(
        block,
        s.seconds("WORKER_BLOCK_GRACE", Duration.ofSeconds(2), Duration.ofMillis(100), Duration.ofSeconds(60)),
        lease,
        (int) s.integer("JOB_MAX_ATTEMPTS", 3, 1, 100),
        (int) s.integer("JOB_MAX_STALLS", 2, 1, 100),
        retryBase,
        retryMax,
        s.seconds("JOB_RETENTION", Duration.ofHours(24), Duration.ofSeconds(1), Duration.ofDays(365)),
        s.seconds("DEAD_LETTER_RETENTION", Duration.ofDays(7), Duration.ofSeconds(1), Duration.ofDays(365)),
        (int) s.integer("DEAD_LETTER_MAX", 10_000, 1, 10_000_000),
        (int) s.integer("QUEUE_MAX_DEPTH", 1_000, 1, 10_000_000),
        (int) s.integer("EVENTS_MAX_LEN", 10_000, 100, 10_000_000),
        s.seconds("REAPER_INTERVAL", Duration.ofSeconds(10), Duration.ofMillis(100), Duration.ofHours(1)),
        s.integer("MAX_IMAGE_BYTES", 20L * 1024 * 1024, 1024, 1L << 31),
        s.integer("MAX_IMAGE_PIXELS", 40_000_000, 1, 1_000_000_000),
        (int) s.integer("MAX_PROMPT_CHARS", 1000, 1, 100_000));
  }
}
