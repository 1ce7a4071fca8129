package io.qwenedit.api;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Per-client token buckets: {@code burst} requests at once, refilled at {@code perMinute}. Counts are kept in this
 * process (each API instance limits on its own). The least recently seen clients are forgotten beyond
 * {@code maxClients}, which at worst hands a forgotten client a fresh bucket.
 */
public final class RateLimiter {
  /** @param retryAfterSeconds when refused: whole seconds until a request will be allowed again */
  public record Decision(boolean allowed, long retryAfterSeconds) {}

  private static final class Bucket {
    double tokens;
    long refilledAt;
  }

  private final double perNano;
  private final int burst;
  private final LongSupplier nanoClock;
  private final Map<String, Bucket> buckets;

  public RateLimiter(int perMinute, int burst, LongSupplier nanoClock, int maxClients) {
    this.perNano = perMinute / 60e9;
    this.burst = burst;
    this.nanoClock = nanoClock;
    this.buckets = new LinkedHashMap<>(256, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Bucket> eldest) {
        return size() > maxClients;
      }
    };
  }

  public synchronized Decision acquire(String client) {
    long now = nanoClock.getAsLong();
    Bucket b = buckets.get(client);
    if (b == null) {
      b = new Bucket();
      b.tokens = burst;
      b.refilledAt = now;
      buckets.put(client, b);
    }
    b.tokens = Math.min(burst, b.tokens + (now - b.refilledAt) * perNano);
    b.refilledAt = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return new Decision(true, 0);
    }
    double waitNanos = (1 - b.tokens) / perNano;
    return new Decision(false, Math.max(1, (long) Math.ceil(waitNanos / 1e9)));
  }
}
