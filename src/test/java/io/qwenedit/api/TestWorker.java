package io.qwenedit.api;

import static io.qwenedit.testing.Await.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qwenedit.queue.JobError;
import io.qwenedit.queue.JobQueue;
import io.qwenedit.queue.QueueResults.Claimed;
import io.qwenedit.queue.QueueResults.Lease;
import io.qwenedit.queue.QueueResults.Outcome;
import io.qwenedit.testing.Images;
import io.vertx.core.json.JsonObject;
import java.awt.Color;
import java.time.Duration;
import java.util.List;

/**
 * Plays the worker through the real queue (claim, progress, complete with a real PNG, fail, stop on cancel), the way
 * the worker role does, until the worker itself can be used in these tests.
 */
final class TestWorker {
  static final String HOLDER = "test-worker";

  private final JobQueue queue;

  TestWorker(JobQueue queue) {
    this.queue = queue;
  }

  /** Claims the next job in line, waiting up to 10 s for one. */
  Claimed claim() {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < deadline) {
      List<Claimed> jobs = await(queue.claim(HOLDER, 1)).jobs();
      if (!jobs.isEmpty()) {
        return jobs.get(0);
      }
      sleep(20);
    }
    throw new AssertionError("no job to claim within 10 s");
  }

  Lease progress(Claimed c, int value, int max) {
    Lease lease = await(queue.progress(c.id(), c.fence(), new JsonObject().put("value", value).put("max", max)));
    assertTrue(lease.held(), "the test worker still holds " + c.id());
    return lease;
  }

  /** Finishes with a real PNG (a distinct colour, so a test can tell it from the input). */
  Outcome succeed(Claimed c) {
    return await(queue.complete(c.id(), c.fence(), Images.png(40, 30, new Color(170, 60, 200)),
        new JsonObject().put("workflow", "test")));
  }

  Outcome failPermanently(Claimed c, String code, String message) {
    return await(queue.fail(c.id(), c.fence(), c.job().attempts(), JobError.permanent(code, message)));
  }

  Outcome stopCancelled(Claimed c) {
    return await(queue.finishCancelled(c.id(), c.fence()));
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
