package io.qwenedit.bot;

/** A token bucket on a caller-supplied clock (ms): {@code capacity} tokens, refilled one per {@code intervalMs}. */
final class TokenBucket {
  private final double intervalMs;
  private final double capacity;
  private double tokens;
  private long last;

  /** @param intervalMs 0 means unlimited */
  TokenBucket(double intervalMs, int capacity, long nowMs) {
    this.intervalMs = intervalMs;
    this.capacity = capacity;
    this.tokens = capacity;
    this.last = nowMs;
  }

  private void refill(long nowMs) {
    if (nowMs > last) {
      tokens = intervalMs <= 0 ? capacity : Math.min(capacity, tokens + (nowMs - last) / intervalMs);
      last = nowMs;
    }
  }

  /** The earliest time (ms) a token is available: {@code nowMs} if one is there now. */
  long availableAt(long nowMs) {
    if (intervalMs <= 0) {
      return nowMs;
    }
    refill(nowMs);
    return tokens >= 1 ? nowMs : nowMs + (long) Math.ceil((1 - tokens) * intervalMs);
  }

  /** Takes a token; callers check {@link #availableAt} first. */
  void take(long nowMs) {
    refill(nowMs);
    if (intervalMs > 0) {
      tokens -= 1;
    }
  }

  boolean full(long nowMs) {
    refill(nowMs);
    return tokens >= capacity;
  }
}
