package io.qwenedit.queue;

import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.ToLongFunction;

/**
 * Group commit for one kind of queue call: a request goes out while fewer than {@code maxInFlight} calls are on their
 * way; requests that arrive meanwhile go out together, as one call, when one comes back. On an event loop a request
 * waits for the end of the turn that submitted it (a task queued behind it: microseconds), and what that turn
 * submitted is spread over the calls that may go out ({@link #MIN_SHARE}); off an event loop it goes at once. A quiet
 * queue waits for nothing; a busy one pays Redis's per-call cost (script start, network) once for many jobs. Each
 * request still gets its own answer: {@code send} returns one result per item, in order, and a failed call fails each of its
 * requests with its cause. As with any call whose answer is lost, a failed call may have done part of its work (a
 * script stopped by an error keeps what it wrote before it): callers treat a failure as "not known to be done".
 */
final class Batcher<I, O> {
  /**
   * What one turn submitted is spread evenly over the calls that may go out, one call per this many requests: two or more
   * calls on their way let Redis run one while the answer of the other is handled (with one call, Redis waited for
   * every round trip), and a share of 6 still pays the per-call cost once for many. Swept with bench-queue (16
   * slots; docs/performance.md): a share of 16 left Redis idle a sixth of the time, 4 paid more calls; 6 with 6 or 8
   * calls out gave the most jobs/s, within the VM's noise of each other.
   */
  private static final int MIN_SHARE = 6;

  private record Pending<I, O>(I item, long weight, Promise<O> promise) {}

  private final int maxInFlight;
  private final int maxItems;
  private final long maxWeight;
  private final ToLongFunction<I> weight;
  private final Predicate<Throwable> failsWaiting;
  private final Function<List<I>, Future<List<O>>> send;
  private final ArrayDeque<Pending<I, O>> waiting = new ArrayDeque<>();
  private int inFlight;
  private boolean flushScheduled;

  /**
   * @param maxItems     at most this many requests in one call
   * @param maxWeight    a call stops growing before it would pass this weight (bytes of images), though a single
   *                     request heavier than that still goes, alone
   * @param failsWaiting a call failure for which every waiting request fails at once too, with the same cause (Redis
   *                     unreachable or silent: they would each wait for a call of their own to fail the same way)
   */
  Batcher(int maxInFlight, int maxItems, long maxWeight, ToLongFunction<I> weight, Predicate<Throwable> failsWaiting,
          Function<List<I>, Future<List<O>>> send) {
    this.maxInFlight = maxInFlight;
    this.maxItems = maxItems;
    this.maxWeight = maxWeight;
    this.weight = weight;
    this.failsWaiting = failsWaiting;
    this.send = send;
  }

  Future<O> submit(I item) {
    Promise<O> promise = Promise.promise();
    long w;
    try {
      w = weight.applyAsLong(item);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    // on an event loop, the end of the caller's turn: what one turn submits (a consumer completing each job of a
    // claim) goes out together even when nothing is on its way
    Context ctx = Vertx.currentContext();
    boolean endOfTurn = ctx != null && ctx.isEventLoopContext();
    List<Pending<I, O>> batch = null;
    boolean schedule = false;
    synchronized (this) {
      waiting.add(new Pending<>(item, w, promise));
      if (!endOfTurn) {
        batch = takeBatch();
      } else if (!flushScheduled) {
        flushScheduled = true;
        schedule = true;
      }
    }
    if (batch != null) {
      dispatch(batch);
    }
    if (schedule) {
      try {
        ctx.runOnContext(v -> flush());
      } catch (RuntimeException e) {
        // the event loop is shutting down: send what waits from here rather than leave it (and the flag) stuck
        flush();
      }
    }
    return promise.future();
  }

  /**
   * Sends what waits in as many calls as may go out, once per turn that submitted (a call answering meanwhile may
   * have taken it already). Were the Vert.x instance closed before this ran, its Redis client would be gone too.
   */
  private void flush() {
    int share;
    synchronized (this) {
      flushScheduled = false;
      int free = maxInFlight - inFlight;
      if (free <= 0 || waiting.isEmpty()) {
        return;
      }
      int calls = Math.min(free, (waiting.size() + MIN_SHARE - 1) / MIN_SHARE);
      share = (waiting.size() + calls - 1) / calls;
    }
    while (true) {
      List<Pending<I, O>> batch;
      synchronized (this) {
        batch = takeBatch(share);
      }
      if (batch == null) {
        return;
      }
      dispatch(batch);
    }
  }

  /** The next call's requests, oldest first, or null when none waits or enough calls are on their way. */
  private List<Pending<I, O>> takeBatch() {
    return takeBatch(maxItems);
  }

  private List<Pending<I, O>> takeBatch(int limit) {
    if (waiting.isEmpty() || inFlight >= maxInFlight) {
      return null;
    }
    inFlight++;
    int most = Math.min(limit, maxItems);
    List<Pending<I, O>> batch = new ArrayList<>(Math.min(waiting.size(), most));
    long total = 0;
    while (!waiting.isEmpty() && batch.size() < most) {
      long w = waiting.peek().weight();
      if (!batch.isEmpty() && total + w > maxWeight) {
        break;
      }
      total += w;
      batch.add(waiting.poll());
    }
    return batch;
  }

  private void dispatch(List<Pending<I, O>> batch) {
    List<I> items = new ArrayList<>(batch.size());
    batch.forEach(p -> items.add(p.item()));
    Future<List<O>> call;
    try {
      call = send.apply(items);
    } catch (RuntimeException e) {
      call = Future.failedFuture(e);
    }
    call.onComplete(ar -> {
      List<Pending<I, O>> next = null;
      List<Pending<I, O>> alsoFailed = List.of();
      synchronized (this) {
        inFlight--;
        if (ar.failed() && failsWaiting.test(ar.cause())) {
          alsoFailed = new ArrayList<>(waiting);
          waiting.clear();
        } else {
          next = takeBatch();
        }
      }
      if (next != null) {
        dispatch(next); // first, so the next call is on its way while these answers are handled
      }
      answer(batch, ar);
      alsoFailed.forEach(p -> p.promise().fail(ar.cause()));
    });
  }

  private static <I, O> void answer(List<Pending<I, O>> batch, AsyncResult<List<O>> ar) {
    if (ar.succeeded() && ar.result().size() != batch.size()) {
      IllegalStateException e = new IllegalStateException(
          "a batched queue call answered " + ar.result().size() + " results for " + batch.size() + " requests");
      batch.forEach(p -> p.promise().fail(e));
      return;
    }
    for (int i = 0; i < batch.size(); i++) {
      if (ar.succeeded()) {
        batch.get(i).promise().complete(ar.result().get(i));
      } else {
        batch.get(i).promise().fail(ar.cause());
      }
    }
  }
}
