package io.qwenedit.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RateLimiterTest {
  private final AtomicLong clock = new AtomicLong(1_000_000_000L);

  private void advanceSeconds(double s) {
    clock.addAndGet((long) (s * 1e9));
  }

  @Test
  void aBurstIsAllowedThenTheRate() {
    RateLimiter limiter = new RateLimiter(6, 3, clock::get, 100); // one per 10 s, three at once
    for (int i = 0; i < 3; i++) {
      assertTrue(limiter.acquire("a").allowed(), "burst request " + i);
    }
    RateLimiter.Decision refused = limiter.acquire("a");
    assertFalse(refused.allowed());
    assertEquals(10, refused.retryAfterSeconds());
    advanceSeconds(4);
    assertEquals(6, limiter.acquire("a").retryAfterSeconds(), "the wait shrinks as time passes");
    advanceSeconds(6);
    assertTrue(limiter.acquire("a").allowed());
    assertFalse(limiter.acquire("a").allowed());
  }

  @Test
  void clientsHaveTheirOwnBucketsAndIdleOnesRefillToTheBurstOnly() {
    RateLimiter limiter = new RateLimiter(60, 2, clock::get, 100);
    assertTrue(limiter.acquire("a").allowed());
    assertTrue(limiter.acquire("a").allowed());
    assertFalse(limiter.acquire("a").allowed());
    assertTrue(limiter.acquire("b").allowed(), "another client is not affected");
    advanceSeconds(3600);
    assertTrue(limiter.acquire("a").allowed());
    assertTrue(limiter.acquire("a").allowed());
    assertFalse(limiter.acquire("a").allowed(), "an hour idle still gives only the burst");
    assertEquals(1, limiter.acquire("a").retryAfterSeconds(), "never less than one second");
  }

  @Test
  void theLeastRecentlySeenClientsAreForgottenBeyondTheBound() {
    RateLimiter limiter = new RateLimiter(1, 1, clock::get, 2);
    assertTrue(limiter.acquire("a").allowed());
    assertFalse(limiter.acquire("a").allowed());
    limiter.acquire("b");
    limiter.acquire("c"); // pushes "a" out
    assertTrue(limiter.acquire("a").allowed(), "a forgotten client starts afresh");
  }
}
