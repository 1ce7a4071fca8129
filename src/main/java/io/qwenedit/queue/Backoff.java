package io.qwenedit.queue;

import java.time.Duration;
import java.util.function.DoubleSupplier;

/** Exponential back-off with "equal jitter": half the delay fixed, half random, so retries spread out. */
public final class Backoff {
  private Backoff() {}

  /** Delay before try number {@code attempt + 1}: base x 2^(attempt-1), capped at max, then jittered to [d/2, d]. */
  public static Duration delay(int attempt, Duration base, Duration max, DoubleSupplier random) {
    long baseMs = base.toMillis();
    long maxMs = max.toMillis();
    int exp = Math.max(0, Math.min(attempt - 1, 30));
    long d = baseMs <= 0 ? 0 : Math.min(maxMs, baseMs * (1L << exp));
    long half = d / 2;
    return Duration.ofMillis(half + (long) (random.getAsDouble() * (d - half)));
  }
}
