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

  /**
   * Script calls Redis has run so far (by SHA; the failed ones, e.g. NOSCRIPT before a script is cached, not counted).
   */
  private static long scriptCalls(JobQueue q) {
    String info = await(q.redis().send(Command.INFO, "commandstats")).toString();
    return info.lines().filter(l -> l.startsWith("cmdstat_evalsha:")).mapToLong(l -> {
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("^cmdstat_evalsha:calls=(\\d+),.*failed_calls=(\\d+)").matcher(l);
      assertTrue(m.find(), l);
      return Long.parseLong(m.group(1)) - Long.parseLong(m.group(2));
    }).sum();
  }

  /** One job through enqueue, claim and complete, so Redis has the scripts cached before calls are counted. */
  private static void warmUp(JobQueue q) {
    await(q.enqueue(NewJob.of("warm-up", Images.png(8, 8))));
    Claimed c = await(q.claim("warm-up", 1)).jobs().get(0);
    assertTrue(await(q.complete(c.id(), c.fence(), Images.png(4, 4), null)).accepted());
  }

  /**
   * Starts {@code n} requests while Redis holds writes back: the first 6 go out alone and wait in Redis, the others
   * wait in the batcher and go together (16 to a call) once those answer.
   */
  private static <T> List<Future<T>> whilePaused(JobQueue q, int n, java.util.function.IntFunction<Future<T>> request) {
    await(q.redis().send(Command.CLIENT, "PAUSE", "1000", "WRITE"));
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
    warmUp(q);
    long callsBefore = scriptCalls(q);
    List<Enqueued> done = all(whilePaused(q, 40, i -> q.enqueue(NewJob.of("edit " + i, Images.png(8, 8)))));
    assertEquals(9, scriptCalls(q) - callsBefore, "40 enqueues: 6 alone, then calls of 16, 16 and 2");
    Set<String> ids = new HashSet<>();
    Set<Integer> positions = new HashSet<>();
    List<String> byPosition = new ArrayList<>(java.util.Collections.nCopies(40, ""));
    for (Enqueued e : done) {
      assertTrue(ids.add(e.id()), "each request its own job");
      assertTrue(positions.add(e.position()), "each job its own place in line");
      assertTrue(e.position() >= 1 && e.position() <= 40, "position " + e.position());
      byPosition.set(e.position() - 1, e.id());
    }
    assertEquals(40L, await(q.depth()));
    assertEquals(40, imagesOfQueuedJobs(q), "one image per job");
    List<String> claimed = await(q.claim("w", 40)).jobs().stream().map(Claimed::id).toList();
    assertEquals(byPosition, claimed, "the line is in the order the replies said");
    assertTrue(await(q.claim("w", 1)).jobs().isEmpty(), "nothing more waits");
  }

  @Test
  void theSameIdempotencyKeyManyTimesInOneCallIsOneJob(Vertx vertx) {
    // a pool larger than the requests: the duplicate checks (GET, not held back by the pause) never queue behind a
    // paused script call, so all 14 keyed requests reach the batcher while the first 6 calls wait in Redis
    JobQueue q = queue(vertx, "REDIS_POOL_SIZE", "32");
    warmUp(q);
    long callsBefore = scriptCalls(q);
    List<Enqueued> done = all(whilePaused(q, 20, i -> q.enqueue(i < 6 ? NewJob.of("alone " + i, Images.png(8, 8))
        : NewJob.of("edit " + i, Images.png(8, 8)).withIdempotencyKey("tg:1:77"))));
    assertEquals(7, scriptCalls(q) - callsBefore, "6 alone, then the 14 keyed requests in one call");
    List<Enqueued> keyed = done.subList(6, 20);
    assertEquals(1, keyed.stream().map(Enqueued::id).distinct().count(), "one job for the one key");
    assertEquals(1, keyed.stream().filter(e -> !e.duplicate()).count(), "the first in the call is the job, 13 duplicates");
    assertEquals(7L, await(q.depth()));
    assertEquals("8", await(q.redis().send(Command.GET, q.keys().seq())).toString(),
        "the sequence counter counts stored jobs only (the warm-up and these 7), not the duplicates");
    assertEquals(7, imagesOfQueuedJobs(q), "the duplicates stored no image");
  }

  /** Input images in Redis (the warm-up job's two images are left out). */
  private static int imagesOfQueuedJobs(JobQueue q) {
    return (int) await(q.redis().send(Command.KEYS, q.keys().imagePrefix() + "*")).stream()
        .filter(r -> r.toString().endsWith("-in.png")).count() - 1;
  }

  @Test
  void aFullQueueRefusesOnlyTheRequestsPastItsLimitWithinABatch(Vertx vertx) {
    JobQueue q = queue(vertx, "QUEUE_MAX_DEPTH", "10");
    warmUp(q);
    List<Future<Enqueued>> f = whilePaused(q, 20, i -> q.enqueue(NewJob.of("edit " + i, Images.png(8, 8))));
    await(Future.join(new ArrayList<>(f)).otherwiseEmpty());
    long queued = f.stream().filter(Future::succeeded).count();
    assertEquals(10, queued);
    f.stream().filter(Future::failed).forEach(x ->
        assertEquals("queue_full", assertInstanceOf(JobRejectedException.class, x.cause()).code()));
    assertEquals(10L, await(q.depth()));
    assertEquals(10, imagesOfQueuedJobs(q), "no image kept for a refused request");
  }

  @Test
  void completionsThatArriveTogetherAreJudgedOneByOne(Vertx vertx) {
    JobQueue q = queue(vertx);
    warmUp(q);
    for (int i = 0; i < 21; i++) {
      await(q.enqueue(NewJob.of("edit " + i, Images.png(8, 8))));
    }
    List<Claimed> held = await(q.claim("w", 21)).jobs();
    assertEquals(21, held.size());
    Claimed other = held.get(20);
    long callsBefore = scriptCalls(q);
    // requests 0-5 go alone, 6-21 in one call: job 6 is completed twice in that call (6 and 7), job 20 by a holder
    // whose fence is not the job's
    List<Supplier<Future<Outcome>>> requests = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      Claimed c = held.get(i);
      requests.add(() -> q.complete(c.id(), c.fence(), Images.png(4, 4), null));
      if (i == 6) {
        requests.add(() -> q.complete(c.id(), c.fence(), Images.png(4, 4), null));
      }
    }
    requests.add(() -> q.complete(other.id(), other.fence() + 1, Images.png(4, 4), null));
    List<Outcome> outcomes = all(whilePaused(q, requests.size(), i -> requests.get(i).get()));
    assertEquals(22, outcomes.size());
    assertEquals(7, scriptCalls(q) - callsBefore, "22 completions: 6 alone, then one call of 16");
    for (int i = 0; i < 21; i++) {
      if (i != 7) {
        assertTrue(outcomes.get(i).accepted(), "completion " + i);
      }
    }
    assertEquals(new Outcome(false, "succeeded"), outcomes.get(7), "the second completion of a job is refused");
    assertEquals(new Outcome(false, "running"), outcomes.get(21), "a stale fence changes nothing");
    assertEquals(JobState.RUNNING, await(q.get(other.id())).state());
    for (Claimed c : held.subList(0, 20)) {
      Job job = await(q.get(c.id()));
      assertEquals(JobState.SUCCEEDED, job.state());
      assertTrue(job.resultRef() != null && await(q.image(job.resultRef())) != null, "job " + c.id() + " keeps its result");
    }
    assertEquals("21", await(q.redis().send(Command.HGET, q.keys().stats(), "succeeded")).toString(), "20 and the warm-up");
    assertEquals(21, await(q.redis().send(Command.XLEN, q.keys().outcomes())).toInteger(), "one outcome each");
  }
}
