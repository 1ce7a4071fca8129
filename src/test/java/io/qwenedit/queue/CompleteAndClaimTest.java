package io.qwenedit.queue;

import static io.qwenedit.testing.Await.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qwenedit.queue.QueueResults.Claimed;
import io.qwenedit.queue.QueueResults.Completed;
import io.qwenedit.testing.Images;
import io.qwenedit.testing.RedisServerExtension;
import io.qwenedit.testing.TestQueues;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.redis.client.Command;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** A completion that also claims its holder's next job in line, in the same call (JobQueue.completeAndClaim). */
@ExtendWith(VertxExtension.class)
class CompleteAndClaimTest {
  @RegisterExtension
  static final RedisServerExtension REDIS = new RedisServerExtension();

  @TempDir
  Path dir;

  private final TestQueues queues = new TestQueues();

  @AfterEach
  void closeClients() {
    queues.close();
  }

  private JobQueue queue(Vertx vertx) {
    return queues.queue(vertx, REDIS.url(), null);
  }

  private static String enqueue(JobQueue q, String prompt) {
    return await(q.enqueue(NewJob.of(prompt, Images.png(16, 16)))).id();
  }

  private static Claimed claimOne(JobQueue q, String holder) {
    List<Claimed> jobs = await(q.claim(holder, 1)).jobs();
    assertEquals(1, jobs.size(), "expected one job to claim");
    return jobs.get(0);
  }

  /** Makes the calls in one event-loop turn (so they travel to Redis together) and returns their results in order. */
  private static List<Completed> inOneTurn(Vertx vertx, Supplier<List<Future<Completed>>> calls) {
    Promise<List<Completed>> all = Promise.promise();
    vertx.runOnContext(v -> {
      List<Future<Completed>> f = calls.get();
      Future.all(f).map(cf -> f.stream().map(Future::result).toList()).onComplete(all);
    });
    return await(all.future());
  }

  private static String hget(JobQueue q, String id, String field) {
    var r = await(q.redis().send(Command.HGET, q.keys().job(id), field));
    return r == null ? null : r.toString();
  }

  @Test
  void aCompletionTakesTheNextJobInLineForItsHolderLeasedAsAClaimWould(Vertx vertx) {
    JobQueue q = queue(vertx);
    String a = enqueue(q, "a");
    String b = enqueue(q, "b");
    String c = enqueue(q, "c");
    Claimed first = claimOne(q, "w1");
    assertEquals(a, first.id());

    Completed done = await(q.completeAndClaim(a, first.fence(), Images.png(8, 8), null, "w1"));
    assertTrue(done.outcome().accepted());
    assertEquals("succeeded", hget(q, a, "state"));
    Claimed next = done.next();
    assertNotNull(next, "b was waiting");
    assertEquals(b, next.id(), "first in line");
    assertEquals(1, next.fence());
    assertEquals(JobState.RUNNING, next.job().state());
    assertEquals("w1", next.job().holder());
    assertEquals(1, next.job().attempts());
    assertEquals("running", hget(q, b, "state"));
    assertEquals("w1", hget(q, b, "holder"));
    assertNotNull(await(q.redis().send(Command.ZSCORE, q.keys().active(), b)), "its lease is recorded");
    assertEquals(1, await(q.position(c)), "c now heads the line");

    Claimed third = await(q.completeAndClaim(b, next.fence(), Images.png(8, 8), null, "w1")).next();
    assertEquals(c, third.id());
    Completed last = await(q.completeAndClaim(c, third.fence(), Images.png(8, 8), null, "w1"));
    assertTrue(last.outcome().accepted());
    assertNull(last.next(), "the line is empty: nothing to take, the caller waits as usual");
    assertEquals(0L, await(q.depth()));
  }

  @Test
  void aPlainCompletionClaimsNothing(Vertx vertx) {
    JobQueue q = queue(vertx);
    String a = enqueue(q, "a");
    String b = enqueue(q, "b");
    Claimed first = claimOne(q, "w1");
    assertTrue(await(q.complete(a, first.fence(), Images.png(8, 8), null)).accepted());
    assertNull(await(q.completeAndClaim(b, 0, Images.png(8, 8), null, null)).next());
    assertEquals("queued", hget(q, b, "state"), "a completion refused for a job never claimed changes nothing");
    assertEquals(1, await(q.position(b)));
  }

  @Test
  void aRefusedCompletionStillFreesItsSlotForTheNextJob(Vertx vertx) {
    JobQueue q = queue(vertx);
    String a = enqueue(q, "a");
    String b = enqueue(q, "b");
    Claimed first = claimOne(q, "w1");
    Completed late = await(q.completeAndClaim(a, first.fence() + 7, Images.png(8, 8), null, "w1"));
    assertFalse(late.outcome().accepted(), "a stale fence is refused");
    assertEquals("running", hget(q, a, "state"), "and changes nothing");
    assertNull(hget(q, a, "result"));
    assertEquals(b, late.next().id(), "the slot is free all the same");
  }

  @Test
  void goneAndBrokenRecordsInLineAreDeadLetteredAndNeverHandedOut(Vertx vertx) {
    JobQueue q = queue(vertx);
    String a = enqueue(q, "a");
    Claimed first = claimOne(q, "w1");
    // ahead of the good job: an id without a record, then a record that cannot be read
    await(q.redis().send(Command.ZADD, q.keys().waiting(), 0, "ghost"));
    BrokenRecords.queueUnreadable(q, "poison1", 1);
    String good = enqueue(q, "fine");

    Completed done = await(q.completeAndClaim(a, first.fence(), Images.png(8, 8), null, "w1"));
    assertTrue(done.outcome().accepted());
    assertEquals("missing_record", hget(q, "ghost", "error_code"), "skipped in the script, the next one tried");
    assertNull(done.next(), "the broken record was claimed, then found unreadable: dead-lettered, not handed out");
    assertEquals("dead", hget(q, "poison1", "state"));
    assertEquals("poison_record", hget(q, "poison1", "error_code"));
    assertEquals(1, await(q.position(good)), "the good job waits for the next claim");
    assertEquals(good, claimOne(q, "w1").id());
  }

  @Test
  void completionsOneTurnMakesEachTakeADifferentNextJob(Vertx vertx) {
    JobQueue q = queue(vertx);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      ids.add(enqueue(q, "job " + i));
    }
    List<Claimed> held = await(q.claim("w1", 10)).jobs();
    assertEquals(ids.subList(0, 10), held.stream().map(Claimed::id).toList());
    // all ten completions in one event-loop turn: they go to Redis together, and each gets its own next job
    List<Completed> results = inOneTurn(vertx, () -> held.stream()
        .map(c -> q.completeAndClaim(c.id(), c.fence(), Images.png(8, 8), null, "w1")).toList());
    assertTrue(results.stream().allMatch(r -> r.outcome().accepted()));
    // (the turn's completions may travel as more than one call, on different connections: the calls' order is Redis's)
    assertEquals(new TreeSet<>(ids.subList(10, 20)),
        new TreeSet<>(results.stream().map(r -> r.next().id()).toList()),
        "each completion took one of the next ten jobs, none twice");
    assertTrue(results.stream().allMatch(r -> "w1".equals(r.next().job().holder())));
    assertEquals(0L, await(q.depth()));
  }

  @Test
  void withImagesInAnotherStoreTheNextJobComesAllTheSame(Vertx vertx) {
    JobQueue q = queues.queue(vertx, REDIS.url(), new ImageStoreSeamTest.DirectoryImageStore(vertx, dir));
    String a = enqueue(q, "a");
    String b = enqueue(q, "b");
    Claimed first = claimOne(q, "w1");
    Completed done = await(q.completeAndClaim(a, first.fence(), Images.png(8, 8), null, "w1"));
    assertTrue(done.outcome().accepted());
    assertEquals(b, done.next().id());
    assertNotNull(await(q.image(hget(q, a, "result"))), "the result is in the store");
  }

  @Test
  void aRetryOfACompletionThatGotThroughTakesNoSecondJob(Vertx vertx) {
    JobQueue q = queue(vertx);
    String a = enqueue(q, "a");
    String b = enqueue(q, "b");
    String c = enqueue(q, "c");
    Claimed first = claimOne(q, "w1");
    assertEquals(b, await(q.completeAndClaim(a, first.fence(), Images.png(8, 8), null, "w1")).next().id());
    // the answer above was lost, say, and the caller sends the same completion again
    Completed again = await(q.completeAndClaim(a, first.fence(), Images.png(8, 8), null, "w1"));
    assertFalse(again.outcome().accepted());
    assertEquals("succeeded", again.outcome().state());
    assertNull(again.next(), "the slot's next job went with the first try");
    assertEquals(1, await(q.position(c)), "c still waits");
  }

  @Test
  void inOneCallStaleAndGoneEntriesAreSkippedAndEachAskingSlotGetsTheNextGoodJob(Vertx vertx) {
    JobQueue q = queue(vertx);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      ids.add(enqueue(q, "job " + i));
    }
    List<Claimed> held = await(q.claim("w0", 3)).jobs();
    // job 3 ended meanwhile but its id is still in line (a stale entry), and an id without a record follows it
    await(q.redis().send(Command.HSET, q.keys().job(ids.get(3)), "state", "cancelled"));
    double score3 = Double.parseDouble(await(q.redis().send(Command.ZSCORE, q.keys().waiting(), ids.get(3))).toString());
    await(q.redis().send(Command.ZADD, q.keys().waiting(), String.valueOf(score3 + 0.5), "ghost3"));

    await(q.redis().send(Command.DEL, q.keys().marker())); // as after a waiter took the wake-up
    // three completions in one turn, so in one call: two take a next job (for different holders), one does not
    List<Completed> r = inOneTurn(vertx, () -> List.of(
        q.completeAndClaim(held.get(0).id(), held.get(0).fence(), Images.png(8, 8), null, "w1"),
        q.completeAndClaim(held.get(1).id(), held.get(1).fence(), Images.png(8, 8), null, null),
        q.completeAndClaim(held.get(2).id(), held.get(2).fence(), Images.png(8, 8), null, "w2")));
    assertTrue(r.stream().allMatch(x -> x.outcome().accepted()));
    assertEquals(ids.get(4), r.get(0).next().id(), "past the stale entry and the gone record");
    assertEquals("w1", r.get(0).next().job().holder());
    assertNull(r.get(1).next(), "no holder, no claim");
    assertEquals(ids.get(5), r.get(2).next().id());
    assertEquals("w2", r.get(2).next().job().holder());
    assertEquals("cancelled", hget(q, ids.get(3), "state"), "a stale entry is dropped, not changed");
    assertNull(await(q.position(ids.get(3))));
    assertEquals("missing_record", hget(q, "ghost3", "error_code"));
    assertEquals(1, await(q.position(ids.get(6))));
    assertEquals(1L, await(q.redis().send(Command.ZCARD, q.keys().marker())).toLong(),
        "jobs still wait: the marker says so, as after a claim");
  }
}
