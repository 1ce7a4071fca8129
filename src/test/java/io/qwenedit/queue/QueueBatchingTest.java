package io.qwenedit.queue;

import static io.qwenedit.testing.Await.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qwenedit.queue.QueueResults.Claimed;
import io.qwenedit.queue.QueueResults.Enqueued;
import io.qwenedit.queue.QueueResults.Outcome;
import io.qwenedit.testing.Images;
import io.qwenedit.testing.RedisServerExtension;
import io.qwenedit.testing.TestQueues;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.redis.client.Command;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Enqueues and completions that arrive together share script calls (group commit); each must still be judged on its
 * own. Redis is paused for writes (CLIENT PAUSE) while the requests arrive, so they are sure to meet in batches.
 */
@ExtendWith(VertxExtension.class)
class QueueBatchingTest {
  @RegisterExtension
  static final RedisServerExtension REDIS = new RedisServerExtension();

  private final TestQueues queues = new TestQueues();

  private JobQueue queue(Vertx vertx, String... overrides) {
    return queues.queue(vertx, REDIS.url(), null, overrides);
  }

  @AfterEach
  void closeClients() {
    queues.close();
  }

  /** Script calls Redis has run so far. */
  private static long scriptCalls(JobQueue q) {
    String info = await(q.redis().send(Command.INFO, "commandstats")).toString();
    return info.lines().filter(l -> l.startsWith("cmdstat_evalsha:") || l.startsWith("cmdstat_eval:"))
        .mapToLong(l -> Long.parseLong(l.replaceAll(".*calls=(\\d+),.*", "$1"))).sum();
  }

  /** Starts {@code n} requests while Redis holds writes back, so all but the first few wait in the batcher. */
  private static <T> List<Future<T>> whilePaused(JobQueue q, int n, java.util.function.IntFunction<Future<T>> request) {
    await(q.redis().send(Command.CLIENT, "PAUSE", "400", "WRITE"));
    List<Future<T>> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(request.apply(i));
    }
    return out;
  }

  private static <T> List<T> all(List<Future<T>> futures) {
    await(Future.join(new ArrayList<>(futures)));
    return futures.stream().map(f -> {
      assertTrue(f.succeeded(), () -> "failed: " + f.cause());
      return f.result();
    }).toList();
  }

  @Test
  void enqueuesThatArriveTogetherShareScriptCallsAndEachGetsItsOwnAnswer(Vertx vertx) {
    JobQueue q = queue(vertx);
    long callsBefore = scriptCalls(q);
    // request 7 and 23 carry the same idempotency key: they meet in one batch, and the second is the first's job
    List<Enqueued> done = all(whilePaused(q, 40, i -> q.enqueue(
        NewJob.of("edit " + i, Images.png(8, 8)).withIdempotencyKey(i == 7 || i == 23 ? "tg:1:7" : "tg:1:k" + i))));
    long calls = scriptCalls(q) - callsBefore;
    assertTrue(calls <= 7, "40 enqueues took " + calls + " script calls; expected 4 alone, then batches of 16");
    assertEquals(done.get(7).id(), done.get(23).id(), "the same key twice in one batch is one job");
    assertTrue(done.get(23).duplicate());
    Set<String> ids = new HashSet<>();
    Set<Integer> positions = new HashSet<>();
    for (int i = 0; i < done.size(); i++) {
      if (i != 23) {
        assertTrue(ids.add(done.get(i).id()), "each request its own job");
        assertTrue(positions.add(done.get(i).position()), "each job its own place in line");
      }
    }
    assertEquals(39, ids.size());
    for (int p = 1; p <= 39; p++) {
      assertTrue(positions.contains(p), "positions 1 to 39, missing " + p);
    }
    assertEquals(39L, await(q.depth()));
    assertEquals(39, await(q.redis().send(Command.KEYS, q.keys().imagePrefix() + "*")).size(), "one image per job");
    // the line is in the order the replies said
    List<String> byPosition = new ArrayList<>(java.util.Collections.nCopies(39, ""));
    for (int i = 0; i < done.size(); i++) {
      if (i != 23) {
        byPosition.set(done.get(i).position() - 1, done.get(i).id());
      }
    }
    List<String> claimed = await(q.claim("w", 39)).jobs().stream().map(Claimed::id).toList();
    assertEquals(byPosition, claimed);
    for (Claimed c : await(q.claim("w", 1)).jobs()) {
      throw new AssertionError("nothing more should wait, found " + c.id());
    }
  }

  @Test
  void aFullQueueRefusesOnlyTheRequestsPastItsLimitWithinABatch(Vertx vertx) {
    JobQueue q = queue(vertx, "QUEUE_MAX_DEPTH", "10");
    List<Future<Enqueued>> f = whilePaused(q, 20, i -> q.enqueue(NewJob.of("edit " + i, Images.png(8, 8))));
    await(Future.join(new ArrayList<>(f)).otherwiseEmpty());
    long queued = f.stream().filter(Future::succeeded).count();
    assertEquals(10, queued);
    f.stream().filter(Future::failed).forEach(x ->
        assertEquals("queue_full", assertInstanceOf(JobRejectedException.class, x.cause()).code()));
    assertEquals(10L, await(q.depth()));
    assertEquals(10, await(q.redis().send(Command.KEYS, q.keys().imagePrefix() + "*")).size(),
        "no image kept for a refused request");
  }

  @Test
  void completionsThatArriveTogetherAreJudgedOneByOne(Vertx vertx) {
    JobQueue q = queue(vertx);
    for (int i = 0; i < 21; i++) {
      await(q.enqueue(NewJob.of("edit " + i, Images.png(8, 8))));
    }
    List<Claimed> held = await(q.claim("w", 21)).jobs();
    assertEquals(21, held.size());
    List<Claimed> toComplete = held.subList(0, 20);
    Claimed other = held.get(20);
    long callsBefore = scriptCalls(q);
    // the 20 completions, one by a holder whose fence is not the job's, and job 0's completion a second time
    List<Supplier<Future<Outcome>>> requests = new ArrayList<>();
    toComplete.forEach(c -> requests.add(() -> q.complete(c.id(), c.fence(), Images.png(4, 4), null)));
    requests.add(() -> q.complete(other.id(), other.fence() + 1, Images.png(4, 4), null));
    requests.add(() -> q.complete(held.get(0).id(), held.get(0).fence(), Images.png(4, 4), null));
    List<Outcome> outcomes = all(whilePaused(q, requests.size(), i -> requests.get(i).get()));
    long calls = scriptCalls(q) - callsBefore;
    assertTrue(calls <= 6, "22 completions took " + calls + " script calls");
    for (int i = 1; i < 20; i++) {
      assertTrue(outcomes.get(i).accepted(), "completion " + i);
    }
    assertEquals(new Outcome(false, "running"), outcomes.get(20), "a stale fence changes nothing");
    assertEquals(JobState.RUNNING, await(q.get(other.id())).state());
    // calls on different connections may run in either order: one of job 0's two completions counts, the other is refused
    List<Outcome> zero = List.of(outcomes.get(0), outcomes.get(21));
    assertEquals(1, zero.stream().filter(Outcome::accepted).count(), zero.toString());
    assertTrue(zero.contains(new Outcome(false, "succeeded")), zero.toString());
    for (Claimed c : toComplete) {
      Job job = await(q.get(c.id()));
      assertEquals(JobState.SUCCEEDED, job.state());
      assertTrue(job.resultRef() != null && await(q.image(job.resultRef())) != null, "job " + c.id() + " keeps its result");
    }
    assertEquals("20", await(q.redis().send(Command.HGET, q.keys().stats(), "succeeded")).toString());
    assertEquals(20, await(q.redis().send(Command.XLEN, q.keys().outcomes())).toInteger(), "one outcome each");
  }
}
