package io.qwenedit.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class BatcherTest {
  /** The failure that also fails the requests still waiting (JobQueue uses RedisUnavailableException). */
  private static final class Unreachable extends RuntimeException {
    Unreachable() {
      super("Redis at 127.0.0.1:1 is not reachable");
    }
  }

  private static final Class<Unreachable> UNREACHABLE = Unreachable.class;

  /** A send function that records each call and answers only when the test says so. */
  private static final class Calls {
    final List<List<String>> items = new ArrayList<>();
    final List<Promise<List<String>>> answers = new ArrayList<>();

    Future<List<String>> send(List<String> batch) {
      items.add(batch);
      Promise<List<String>> p = Promise.promise();
      answers.add(p);
      return p.future();
    }

    /** Answers call {@code i} with each item upper-cased. */
    void answer(int i) {
      answers.get(i).complete(items.get(i).stream().map(String::toUpperCase).toList());
    }
  }

  private static Batcher<String, String> batcher(Calls calls, int inFlight, int maxItems, long maxWeight) {
    return new Batcher<>(inFlight, maxItems, maxWeight, String::length, UNREACHABLE::isInstance, calls::send);
  }

  @Test
  void aRequestGoesOutAtOnceWhenNothingIsOnItsWay() {
    Calls calls = new Calls();
    Future<String> a = batcher(calls, 1, 16, 1000).submit("a");
    assertEquals(List.of(List.of("a")), calls.items, "sent without waiting for company");
    calls.answer(0);
    assertEquals("A", a.result());
  }

  @Test
  void requestsThatArriveWhileCallsAreOutGoTogetherAndEachGetsItsOwnAnswer() {
    Calls calls = new Calls();
    Batcher<String, String> b = batcher(calls, 2, 16, 1000);
    List<Future<String>> f = new ArrayList<>();
    for (String s : List.of("a", "b", "c", "d", "e")) {
      f.add(b.submit(s));
    }
    assertEquals(List.of(List.of("a"), List.of("b")), calls.items, "two calls on their way, the rest wait");
    calls.answer(1);
    assertEquals(List.of("c", "d", "e"), calls.items.get(2), "the waiting ones go as one call, in order");
    assertEquals("B", f.get(1).result());
    assertTrue(!f.get(0).isComplete(), "a's call has not answered yet");
    calls.answer(0);
    calls.answer(2);
    assertEquals(List.of("A", "B", "C", "D", "E"), f.stream().map(Future::result).toList());
    assertEquals(3, calls.items.size());
  }

  @Test
  void aCallCarriesAtMostMaxItemsAndStopsBeforeItsWeightLimit() {
    Calls calls = new Calls();
    Batcher<String, String> b = batcher(calls, 1, 3, 10);
    b.submit("first");
    for (String s : List.of("a", "b", "c", "d", "0123456789xyz", "e")) {
      b.submit(s);
    }
    calls.answer(0);
    assertEquals(List.of("a", "b", "c"), calls.items.get(1), "three at most");
    calls.answer(1);
    assertEquals(List.of("d"), calls.items.get(2), "the next would pass the weight limit");
    calls.answer(2);
    assertEquals(List.of("0123456789xyz"), calls.items.get(3), "heavier than the limit on its own: it still goes, alone");
    calls.answer(3);
    assertEquals(List.of("e"), calls.items.get(4));
  }

  @Test
  void aFailedCallFailsEachOfItsRequestsAndTheNextCallStillGoes() {
    Calls calls = new Calls();
    Batcher<String, String> b = batcher(calls, 1, 16, 1000);
    Future<String> a = b.submit("a");
    Future<String> x = b.submit("x");
    Future<String> y = b.submit("y");
    RuntimeException boom = new RuntimeException("connection lost");
    calls.answers.get(0).fail(boom);
    assertSame(boom, a.cause());
    assertEquals(List.of("x", "y"), calls.items.get(1));
    calls.answers.get(1).fail(boom);
    assertSame(boom, x.cause());
    assertSame(boom, y.cause());
    Future<String> z = b.submit("z");
    calls.answer(2);
    assertEquals("Z", z.result(), "the batcher carries on after failures");
  }

  @Test
  void anAnswerWithTheWrongNumberOfResultsFailsEveryRequestOfThatCall() {
    Calls calls = new Calls();
    Batcher<String, String> b = batcher(calls, 1, 16, 1000);
    b.submit("a");
    Future<String> x = b.submit("x");
    Future<String> y = b.submit("y");
    calls.answer(0);
    calls.answers.get(1).complete(List.of("X"));
    assertTrue(x.failed() && y.failed());
    assertTrue(x.cause().getMessage().contains("1 results for 2 requests"), x.cause().getMessage());
  }

  @Test
  void aSendThatThrowsFailsItsRequestsInsteadOfLosingThem() {
    Batcher<String, String> b = new Batcher<>(1, 16, 1000, String::length, UNREACHABLE::isInstance, items -> {
      throw new IllegalStateException("client closed");
    });
    Future<String> a = b.submit("a");
    Future<String> c = b.submit("c");
    assertEquals("client closed", a.cause().getMessage());
    assertEquals("client closed", c.cause().getMessage(), "the in-flight count was given back");
  }

  @Test
  void whenRedisCannotBeReachedTheWaitingRequestsFailAtOnceInsteadOfWaitingForCallsOfTheirOwn() {
    Calls calls = new Calls();
    Batcher<String, String> b = batcher(calls, 1, 2, 1000);
    Future<String> a = b.submit("a");
    List<Future<String>> waiting = new ArrayList<>();
    for (String s : List.of("b", "c", "d", "e", "f")) {
      waiting.add(b.submit(s));
    }
    Unreachable down = new Unreachable();
    calls.answers.get(0).fail(down);
    assertSame(down, a.cause());
    waiting.forEach(f -> assertSame(down, f.cause(), "failed with the same cause, without a call of its own"));
    assertEquals(1, calls.items.size());
    Future<String> later = b.submit("g");
    calls.answer(1);
    assertEquals("G", later.result(), "once Redis answers again, requests go out as before");
  }

  @Test
  void aRequestWhoseWeightCannotBeToldFailsAloneAndTheBatcherCarriesOn() {
    Calls calls = new Calls();
    Batcher<String, String> b = new Batcher<>(1, 16, 1000, s -> {
      if (s.equals("bad")) {
        throw new IllegalArgumentException("no image");
      }
      return s.length();
    }, UNREACHABLE::isInstance, calls::send);
    assertEquals("no image", b.submit("bad").cause().getMessage());
    Future<String> ok = b.submit("ok");
    calls.answer(0);
    assertEquals("OK", ok.result());
  }

  /** Submits {@code items} in one turn of an event loop and returns the calls that went out once that turn ended. */
  private static List<List<String>> callsAfterOneTurn(int inFlight, List<String> items) throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      Calls calls = new Calls();
      Batcher<String, String> b = batcher(calls, inFlight, 16, 1000);
      CompletableFuture<List<List<String>>> sent = new CompletableFuture<>();
      vertx.runOnContext(v -> {
        items.forEach(b::submit);
        if (!calls.items.isEmpty()) {
          sent.completeExceptionally(new AssertionError("sent before the turn ended: " + calls.items));
        }
        // queued behind the flush the submits asked for, on the same event loop
        vertx.runOnContext(v2 -> sent.complete(List.copyOf(calls.items)));
      });
      return sent.get(10, TimeUnit.SECONDS);
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void onAnEventLoopWhatOneTurnSubmitsGoesOutTogetherEvenWithNothingOnItsWay() throws Exception {
    assertEquals(List.of(List.of("a", "b", "c")), callsAfterOneTurn(4, List.of("a", "b", "c")),
        "one call, not one per request");
  }

  @Test
  void aLargeTurnIsSpreadOverTheCallsThatMayGoOutSoRedisNeverWaitsForOneRoundTrip() throws Exception {
    List<String> twenty = IntStream.range(0, 20).mapToObj(i -> "r" + i).toList();
    List<List<String>> calls = callsAfterOneTurn(4, twenty);
    assertEquals(List.of(5, 5, 5, 5), calls.stream().map(List::size).toList(), "spread evenly over the free calls");
    assertEquals(List.of(6, 6), callsAfterOneTurn(4, twenty.subList(0, 12)).stream().map(List::size).toList(),
        "but no more calls than one per 6 requests");
    assertEquals(twenty, calls.stream().flatMap(List::stream).toList(), "in order, none lost");
    assertEquals(List.of(List.of("x")), callsAfterOneTurn(4, List.of("x")), "a lone request goes alone");
    List<String> forty = IntStream.range(0, 40).mapToObj(i -> "r" + i).toList();
    assertEquals(List.of(10, 10, 10, 10), callsAfterOneTurn(4, forty).stream().map(List::size).toList(),
        "no more calls than may be on their way");
  }

  @Test
  void aTurnThatFindsEveryCallOutWaitsForAnAnswerAndIsNotLost() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      Calls calls = new Calls();
      Batcher<String, String> b = batcher(calls, 1, 16, 1000);
      Future<String> a = b.submit("a"); // off an event loop: out at once, and the only call allowed
      CompletableFuture<List<Future<String>>> submitted = new CompletableFuture<>();
      vertx.runOnContext(v -> submitted.complete(List.of(b.submit("b"), b.submit("c"))));
      List<Future<String>> later = submitted.get(10, TimeUnit.SECONDS);
      CompletableFuture<Integer> afterTurn = new CompletableFuture<>();
      vertx.runOnContext(v -> afterTurn.complete(calls.items.size()));
      assertEquals(1, afterTurn.get(10, TimeUnit.SECONDS), "no call was free at the end of the turn");
      calls.answer(0);
      assertEquals("A", a.result());
      assertEquals(List.of("b", "c"), calls.items.get(1), "the answer sent what waited");
      calls.answer(1);
      assertEquals(List.of("B", "C"), later.stream().map(Future::result).toList());
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void aRequestFromAnotherEventLoopWhileAFlushIsPendingGoesWithIt() throws Exception {
    Vertx vertx = Vertx.vertx(new io.vertx.core.VertxOptions().setEventLoopPoolSize(2));
    try {
      Calls calls = new Calls();
      Batcher<String, String> b = batcher(calls, 4, 16, 1000);
      io.vertx.core.Context one = vertx.getOrCreateContext();
      io.vertx.core.Context two = ((io.vertx.core.internal.VertxInternal) vertx).createEventLoopContext();
      CountDownLatch bSubmitted = new CountDownLatch(1);
      CompletableFuture<Future<String>> fromTwo = new CompletableFuture<>();
      CompletableFuture<Future<String>> fromOne = new CompletableFuture<>();
      one.runOnContext(v -> {
        Future<String> fa = b.submit("a"); // schedules the flush on this loop
        two.runOnContext(w -> {
          fromTwo.complete(b.submit("b")); // a flush is pending already: none scheduled here
          bSubmitted.countDown();
        });
        try {
          assertTrue(bSubmitted.await(5, TimeUnit.SECONDS)); // this turn lasts until b is in
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        fromOne.complete(fa);
      });
      Future<String> fa = fromOne.get(10, TimeUnit.SECONDS);
      Future<String> fb = fromTwo.get(10, TimeUnit.SECONDS);
      CompletableFuture<List<List<String>>> sent = new CompletableFuture<>();
      one.runOnContext(v -> sent.complete(List.copyOf(calls.items)));
      assertEquals(List.of(List.of("a", "b")), sent.get(10, TimeUnit.SECONDS), "one call, sent by the first loop's flush");
      calls.answer(0);
      assertEquals("A", fa.result());
      assertEquals("B", fb.result());
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }
}
