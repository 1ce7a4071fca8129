package io.qwenedit.health;

import io.netty.util.concurrent.EventExecutor;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Asks every event-loop thread of a Vert.x instance to run a no-op and measures how long each takes to answer. A
 * loop blocked by a handler that never returns cannot answer: liveness must fail then, because redeploying a
 * verticle cannot free a blocked thread, only a restart can.
 */
public final class EventLoopProbe {
  private EventLoopProbe() {}

  /**
   * Resolves within {@code limitMs} with {@code {ok, loops, answered, slowest_ms}}; {@code ok} is false when a loop
   * did not answer in time.
   */
  public static Future<JsonObject> probe(Vertx vertx, long limitMs) {
    // The event-loop group is internal API; it is the only way to reach every loop, not just the caller's own.
    List<EventExecutor> loops = new ArrayList<>();
    ((VertxInternal) vertx).eventLoopGroup().forEach(loops::add);
    Context caller = vertx.getOrCreateContext();
    Promise<JsonObject> result = Promise.promise();
    AtomicInteger answered = new AtomicInteger();
    AtomicLong slowestNanos = new AtomicLong();
    long started = System.nanoTime();
    long timer = vertx.setTimer(limitMs, t -> result.tryComplete(verdict(loops.size(), answered.get(), slowestNanos.get(), false)));
    for (EventExecutor loop : loops) {
      loop.execute(() -> {
        slowestNanos.accumulateAndGet(System.nanoTime() - started, Math::max);
        if (answered.incrementAndGet() == loops.size()) {
          // Complete on the caller's context, not on whichever loop answered last.
          caller.runOnContext(v -> {
            if (result.tryComplete(verdict(loops.size(), loops.size(), slowestNanos.get(), true))) {
              vertx.cancelTimer(timer);
            }
          });
        }
      });
    }
    return result.future();
  }

  private static JsonObject verdict(int loops, int answered, long slowestNanos, boolean ok) {
    return new JsonObject().put("ok", ok && answered == loops).put("loops", loops).put("answered", answered)
        .put("slowest_ms", Math.round(slowestNanos / 1e5) / 10.0);
  }
}
