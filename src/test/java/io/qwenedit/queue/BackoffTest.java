package io.qwenedit.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BackoffTest {
  private static final Duration BASE = Duration.ofSeconds(5);
  private static final Duration MAX = Duration.ofSeconds(60);

  @Test
  void doublesEachAttemptWithinItsJitterBand() {
    assertEquals(2500, Backoff.delay(1, BASE, MAX, () -> 0.0).toMillis());
    assertEquals(5000, Backoff.delay(1, BASE, MAX, () -> 1.0).toMillis());
    assertEquals(5000, Backoff.delay(2, BASE, MAX, () -> 0.0).toMillis());
    assertEquals(10000, Backoff.delay(2, BASE, MAX, () -> 1.0).toMillis());
    assertEquals(20000, Backoff.delay(3, BASE, MAX, () -> 1.0).toMillis());
  }

  @Test
  void isCappedAndNeverOverflows() {
    assertEquals(60000, Backoff.delay(10, BASE, MAX, () -> 1.0).toMillis());
    assertEquals(30000, Backoff.delay(1000, BASE, MAX, () -> 0.0).toMillis());
    assertEquals(0, Backoff.delay(3, Duration.ZERO, MAX, () -> 0.5).toMillis());
  }
}
