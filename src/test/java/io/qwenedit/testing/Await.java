package io.qwenedit.testing;

import io.vertx.core.Future;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

/** Blocking helpers for the JUnit thread (never an event loop). */
public final class Await {
  private Await() {}

  public static <T> T await(Future<T> f) {
    return await(f, Duration.ofSeconds(20));
  }

  public static <T> T await(Future<T> f, Duration limit) {
    try {
      return f.await(limit.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new AssertionError("no result within " + limit, e);
    }
  }

  /** The failure of a future that must fail. */
  public static Throwable failure(Future<?> f) {
    java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
    f.onComplete(ar -> done.countDown());
    try {
      if (!done.await(20, TimeUnit.SECONDS)) {
        throw new AssertionError("no result within 20 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
    if (f.succeeded()) {
      throw new AssertionError("expected a failure, got " + f.result());
    }
    // a failure that is itself a timeout is still the failure asked for (not a test timeout)
    return f.cause();
  }

  /** Polls a condition (test-side only) until it holds or the limit passes. */
  public static void until(String what, Duration limit, BooleanSupplier condition) {
    long deadline = System.nanoTime() + limit.toNanos();
    while (System.nanoTime() < deadline) {
      if (condition.getAsBoolean()) {
        return;
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
    throw new AssertionError("timed out after " + limit + " waiting for: " + what);
  }
}
