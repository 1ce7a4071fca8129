package io.qwenedit.queue;

import static io.qwenedit.testing.Await.await;
import static io.qwenedit.testing.Await.failure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qwenedit.queue.QueueResults.Claim;
import io.qwenedit.queue.QueueResults.Claimed;
import io.qwenedit.queue.QueueResults.Enqueued;
import io.qwenedit.queue.QueueResults.Lease;
import io.qwenedit.queue.QueueResults.Outcome;
import io.qwenedit.testing.Images;
import io.qwenedit.testing.RedisServerExtension;
import io.qwenedit.testing.TestQueues;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

@ExtendWith(VertxExtension.class)
class JobQueueTest {
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

  private static NewJob edit(String prompt) {
    return NewJob.of(prompt, Images.png(64, 48));
  }

  private static Claimed claimOne(JobQueue q, String holder) {
    Claim c = await(q.claim(holder, 1));
    assertEquals(1, c.jobs().size(), "expected one job to claim");
    return c.jobs().get(0);
  }

  /** Claims one job and confirms it the way a worker does (its first renewal), so abandoning it is a real stall. */
  private static Claimed claimAndStart(JobQueue q, String holder) {
    Claimed c = claimOne(q, holder);
    assertTrue(await(q.renew(c.id(), c.fence(), null, null)).held());
    return c;
  }

  private String hget(JobQueue q, String id, String field) {
    var r = await(q.redis().send(Command.HGET, q.keys().job(id), field));
    return r == null ? null : r.toString();
  }

  @Test
  void aClaimSaysWhetherMoreJobsAreWaiting(Vertx vertx) {
    JobQueue q = queue(vertx);
    for (int i = 0; i < 3; i++) {
      await(q.enqueue(edit("job " + i)));
    }
    Claim first = await(q.claim("w1", 2));
    assertEquals(2, first.jobs().size());
    assertTrue(first.more(), "a third job is waiting: the consumer claims again without a blocking wait");
    Claim second = await(q.claim("w1", 2));
    assertEquals(1, second.jobs().size());
    assertFalse(second.more(), "the line is empty now");
    assertFalse(await(q.claim("w1", 2)).more());
  }

  @Test
  void jobsAreClaimedInTheOrderTheyWereQueued(Vertx vertx) {
    JobQueue q = queue(vertx);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      ids.add(await(q.enqueue(edit("edit " + i))).id());
    }
    Claim first = await(q.claim("w1", 2));
    Claim rest = await(q.claim("w1", 10));
    List<String> claimed = new ArrayList<>();
    first.jobs().forEach(c -> claimed.add(c.id()));
    rest.jobs().forEach(c -> claimed.add(c.id()));
    assertEquals(ids, claimed);
    assertEquals(2, first.jobs().size(), "a claim takes exactly the capacity asked for");
  }

  @Test
  void claimRecordsHolderLeaseAndAttemptAtomically(Vertx vertx) {
    JobQueue q = queue(vertx);
    String id = await(q.enqueue(edit("make the sky purple"))).id();
    Claimed c = claimOne(q, "worker-a");
    Job job = c.job();
    assertEquals(id, job.id());
    assertEquals(JobState.RUNNING, job.state());
    assertEquals("worker-a", job.holder());
    assertEquals(1, job.attempts());
    assertEquals(1, c.fence());
    assertNotNull(job.leaseUntil());
    assertEquals("make the sky purple", job.prompt());
    var score = await(q.redis().send(Command.ZSCORE, q.keys().active(), id));
    assertNotNull(score, "the lease is in the active set");
    assertEquals(0L, await(q.depth()));
  }

  @Test
  void sameIdempotencyKeyGivesTheSameJob(Vertx vertx) {
    JobQueue q = queue(vertx);
    Enqueued a = await(q.enqueue(edit("a").withIdempotencyKey("tg:1:42")));
    Enqueued b = await(q.enqueue(edit("a").withIdempotencyKey("tg:1:42")));
    Enqueued c = await(q.enqueue(edit("a").withIdempotencyKey("tg:1:43")));
    assertEquals(a.id(), b.id());
    assertFalse(a.duplicate());
    assertTrue(b.duplicate());
    assertFalse(a.id().equals(c.id()));
    assertEquals(2L, await(q.depth()));
    // the duplicate stored no second image
    var imgs = await(q.redis().send(Command.KEYS, q.keys().imagePrefix() + "*"));
    assertEquals(2, imgs.size());
  }

  @Test
  void positionTellsWhereAJobStandsInLine(Vertx vertx) {
    JobQueue q = queue(vertx);
    String a = await(q.enqueue(edit("a"))).id();
    await(q.enqueue(edit("b")));
    Enqueued c = await(q.enqueue(edit("c")));
    assertEquals(3, c.position());
    assertEquals(1, await(q.position(a)));
    claimOne(q, "w");
    assertEquals(2, await(q.position(c.id())));
    assertNull(await(q.position(a)), "a running job is not in line");
  }

  @Test
  void expiredLeaseIsReapedAndTheJobComesBack(Vertx vertx) {
    JobQueue q = queue(vertx, "JOB_LEASE_SECONDS", "1");
    String id = await(q.enqueue(edit("x"))).id();
    claimAndStart(q, "doomed");
    assertEquals(0, await(q.reap()).requeued().size(), "a live lease is left alone");
    sleep(1200);
    var reaped = await(q.reap());
    assertEquals(List.of(id), reaped.requeued());
    Job job = await(q.get(id));
    assertEquals(JobState.QUEUED, job.state());
    assertEquals(1, job.stalls());
    assertEquals(1, await(q.position(id)));
  }

  @Test
  void aClaimWhoseReplyWasLostIsNotCountedAsAStallNorAnAttempt(Vertx vertx) {
    JobQueue q = queue(vertx, "JOB_LEASE_SECONDS", "1", "JOB_MAX_STALLS", "1", "JOB_MAX_ATTEMPTS", "1");
    String id = await(q.enqueue(edit("x"))).id();
    for (int i = 0; i < 3; i++) {
      claimOne(q, "never-heard-the-reply"); // the claim ran, its reply never reached the worker: no renewal follows
      sleep(1100);
      assertEquals(List.of(id), await(q.reap()).requeued());
      Job j = await(q.get(id));
      assertEquals(JobState.QUEUED, j.state());
      assertEquals(0, j.attempts());
      assertEquals(0, j.stalls());
    }
    Claimed c = claimAndStart(q, "w");
    assertTrue(await(q.complete(id, c.fence(), Images.png(4, 4), null)).accepted());
  }

  @Test
  void staleHolderCannotChangeAJobSomeoneElseNowHolds(Vertx vertx) {
    JobQueue q = queue(vertx, "JOB_LEASE_SECONDS", "1");
    String id = await(q.enqueue(edit("x"))).id();
    Claimed old = claimAndStart(q, "slow-worker");
    sleep(1200);
    await(q.reap());
    Claimed fresh = claimOne(q, "new-worker");
    assertEquals(2, fresh.fence());

    assertFalse(await(q.renew(id, old.fence(), null, null)).held());
    assertFalse(await(q.progress(id, old.fence(), new JsonObject().put("value", 3))).held());
    assertFalse(await(q.complete(id, old.fence(), Images.png(8, 8), null)).accepted());
    assertFalse(await(q.fail(id, old.fence(), 1, JobError.permanent("x", "late failure"))).accepted());
    assertFalse(await(q.release(id, old.fence(), "late")).accepted());
    assertEquals(JobState.RUNNING, await(q.get(id)).state());
    assertEquals("new-worker", await(q.get(id)).holder());

    assertTrue(await(q.complete(id, fresh.fence(), Images.png(8, 8), null)).accepted());
    Job done = await(q.get(id));
    assertEquals(JobState.SUCCEEDED, done.state());
    assertTrue(done.resultRef().contains("-out-2"), "the result is the new holder's: " + done.resultRef());
    // the stale holder's refused result left no image behind
    var imgs = await(q.redis().send(Command.KEYS, q.keys().imagePrefix() + "*-out-*"));
    assertEquals(1, imgs.size());
  }

  @Test
  void retryableErrorsComeBackAfterABackOffThenGoToTheDeadLetterSet(Vertx vertx) {
    JobQueue q = queue(vertx, "JOB_MAX_ATTEMPTS", "3", "JOB_RETRY_BASE", "300ms", "JOB_RETRY_MAX", "300ms");
    String id = await(q.enqueue(edit("x"))).id();
    Long dueAt = null;
    for (int attempt = 1; attempt <= 3; attempt++) {
      Claimed c = claimWithin(q, 3000);
      assertEquals(attempt, c.job().attempts());
      // the pick-up latency counts from when the job became claimable: queued, or its back-off's end
      assertEquals(attempt == 1 ? c.job().queuedAt() : dueAt, c.job().readyAt());
      assertTrue(c.job().readyAt() >= c.job().queuedAt());
      long failedAt = System.currentTimeMillis();
      Outcome o = await(q.fail(id, c.fence(), c.job().attempts(), JobError.retryable("comfy_unreachable", "ComfyUI did not answer")));
      assertTrue(o.accepted());
      if (attempt < 3) {
        assertEquals("retrying", o.state());
        Job j = await(q.get(id));
        assertEquals(JobState.QUEUED, j.state());
        assertNotNull(j.dueAt());
        dueAt = j.dueAt();
        long delay = j.dueAt() - failedAt;
        assertTrue(delay >= 100 && delay <= 400, "back-off between base/2 and base, was " + delay);
        assertTrue(await(q.claim("w", 1)).jobs().isEmpty(), "not claimable before its back-off ends");
      } else {
        assertEquals("dead", o.state());
      }
    }
    Job dead = await(q.get(id));
    assertEquals(JobState.DEAD, dead.state());
    assertEquals("comfy_unreachable", dead.error().code());
    assertTrue(dead.error().message().startsWith("Gave up after 3 attempts"), dead.error().message());
    assertEquals(3, dead.attemptLog().size());
    assertEquals(List.of(id), await(q.dead(10)).stream().map(Job::id).toList());
  }

  private static Claimed claimWithin(JobQueue q, long ms) {
    long deadline = System.currentTimeMillis() + ms;
    while (System.currentTimeMillis() < deadline) {
      Claim c = await(q.claim("w", 1));
      if (!c.jobs().isEmpty()) {
        return c.jobs().get(0);
      }
      sleep(25);
    }
    throw new AssertionError("nothing to claim within " + ms + " ms");
  }

  @Test
  void nonRetryableErrorFailsAtOnce(Vertx vertx) {
    JobQueue q = queue(vertx);
    String id = await(q.enqueue(edit("x"))).id();
    Claimed c = claimOne(q, "w");
    Outcome o = await(q.fail(id, c.fence(), 1, JobError.permanent("invalid_workflow", "Node 37 (UNETLoader): model file missing")));
    assertEquals("failed", o.state());
    Job j = await(q.get(id));
    assertEquals(JobState.FAILED, j.state());
    assertFalse(j.error().retryable());
    assertEquals(0L, await(q.redis().send(Command.ZCARD, q.keys().dead())).toLong(), "a user error is not a dead letter");
  }

  @Test
  void jobThatKeepsKillingItsWorkerIsDeadLetteredAfterTooManyLeaseExpiries(Vertx vertx) {
    JobQueue q = queue(vertx, "JOB_LEASE_SECONDS", "1", "JOB_MAX_STALLS", "2", "JOB_MAX_ATTEMPTS", "5");
    String id = await(q.enqueue(edit("x"))).id();
    claimAndStart(q, "victim-1");
    sleep(1100);
    assertEquals(List.of(id), await(q.reap()).requeued());
    claimAndStart(q, "victim-2");
    sleep(1100);
    var second = await(q.reap());
    assertEquals(List.of(id), second.dead());
    Job j = await(q.get(id));
    assertEquals(JobState.DEAD, j.state());
    assertEquals("lease_expired", j.error().code());
    assertTrue(j.error().message().contains("abandoned by its worker 2 time"), j.error().message());
  }

  @Test
  void consumerThatDiesBetweenClaimAndCompletionLosesNothingAndTheJobCompletesOnce(Vertx vertx) {
    JobQueue q = queue(vertx, "JOB_LEASE_SECONDS", "1");
    String id = await(q.enqueue(edit("x"))).id();
    claimAndStart(q, "crashed"); // and never heard from again
    sleep(1100);
    await(q.reap());
    Claimed c = claimOne(q, "survivor");
    assertTrue(await(q.complete(id, c.fence(), Images.png(16, 16), null)).accepted());
    Job j = await(q.get(id));
    assertEquals(JobState.SUCCEEDED, j.state());
    assertEquals(2, j.attempts());
    assertEquals(List.of("lease_expired", "succeeded"),
        j.attemptLog().stream().map(o -> ((JsonObject) o).getString("outcome")).toList());
    var outcomes = await(q.redis().send(Command.XRANGE, q.keys().outcomes(), "-", "+"));
    assertEquals(1, outcomes.size(), "exactly one outcome recorded");
    JsonObject counters = await(q.snapshot(null)).counters();
    assertEquals(1L, counters.getLong("succeeded"));
  }

  @Test
  void aSuccessIsStoredOnceAndReadAsTheLastEntryOfTheAttemptLog(Vertx vertx) {
    JobQueue q = queue(vertx);
    String id = await(q.enqueue(edit("purple sky"))).id();
    Claimed c = claimOne(q, "w1");
    assertTrue(await(q.complete(id, c.fence(), Images.png(16, 16), null)).accepted());
    assertNull(hget(q, id, "attempt_log"), "the record's own fields are the attempt that succeeded");
    String encoding = await(q.redis().send(Command.OBJECT, "ENCODING", q.keys().job(id))).toString();
    assertTrue(List.of("listpack", "ziplist").contains(encoding), "a record of short fields stays compact: " + encoding);
    Job j = await(q.get(id));
    assertEquals(1, j.attemptLog().size(), j.attemptLog().encode());
    JsonObject success = j.attemptLog().getJsonObject(0);
    assertEquals(1, success.getInteger("attempt"));
    assertEquals("w1", success.getString("holder"));
    assertEquals(j.startedAt(), success.getLong("started_at"));
    assertEquals(j.finishedAt(), success.getLong("ended_at"));
    assertEquals("succeeded", success.getString("outcome"));

    // a record stored while completions still logged the success themselves shows it once, not twice
    var stored = new HashMap<>(Job.hash(await(q.redis().send(Command.HGETALL, q.keys().job(id)))));
    String oldLog = new JsonArray().add(success).encode();
    stored.put("attempt_log", oldLog);
    assertEquals(oldLog, Job.fromHash(stored).attemptLog().encode());
  }

  @Test
  void cancellingAQueuedJobRemovesItAtOnce(Vertx vertx) {
    JobQueue q = queue(vertx);
    String id = await(q.enqueue(edit("x"))).id();
    assertEquals("cancelled", await(q.cancel(id)));
    assertEquals(JobState.CANCELLED, await(q.get(id)).state());
    assertEquals(0L, await(q.depth()));
    assertTrue(await(q.claim("w", 1)).jobs().isEmpty());
    assertEquals("cancelled", await(q.cancel(id)), "cancelling twice reports the state");
    assertEquals("missing", await(q.cancel("nope")));
  }

  @Test
  void cancellingARunningJobFlagsItAndTellsTheHolder(Vertx vertx) {
    JobQueue q = queue(vertx);
    String id = await(q.enqueue(edit("x"))).id();
    Claimed c = claimOne(q, "w");
    List<String> heard = new java.util.concurrent.CopyOnWriteArrayList<>();
    var sub = new io.qwenedit.redis.RedisSubscriber(vertx, q.redis().config(), List.of(q.keys().cancelChannel()),
        (channel, message) -> heard.add(message));
    await(sub.start());
    try {
      assertEquals("requested", await(q.cancel(id)));
      io.qwenedit.testing.Await.until("cancel message", java.time.Duration.ofSeconds(5), () -> heard.contains(id));
      Lease lease = await(q.renew(id, c.fence(), null, null));
      assertTrue(lease.held());
      assertTrue(lease.cancelRequested(), "the flag reaches the holder even if it missed the message");
      assertEquals("cancelled", await(q.finishCancelled(id, c.fence())).state());
      assertEquals(JobState.CANCELLED, await(q.get(id)).state());
    } finally {
      await(sub.close());
    }
  }

  @Test
  void finishedJobsAndTheirImagesExpireAfterTheRetention(Vertx vertx) {
    JobQueue q = queue(vertx, "JOB_RETENTION", "1s");
    String id = await(q.enqueue(edit("x"))).id();
    Job queued = await(q.get(id));
    assertEquals(-1L, await(q.redis().send(Command.PTTL, q.keys().job(id))).toLong(), "queued jobs do not expire");
    assertEquals(-1L, await(q.redis().send(Command.PTTL, q.keys().image(queued.inputRef()))).toLong());
    Claimed c = claimOne(q, "w");
    await(q.complete(id, c.fence(), Images.png(10, 10), null));
    Job done = await(q.get(id));
    assertNotNull(await(q.image(done.resultRef())));
    long ttl = await(q.redis().send(Command.PTTL, q.keys().job(id))).toLong();
    assertTrue(ttl > 0 && ttl <= 1000, "ttl " + ttl);
    sleep(1300);
    assertNull(await(q.get(id)));
    assertNull(await(q.image(done.resultRef())));
    assertNull(await(q.image(done.inputRef())));
  }

  @Test
  void imagesOfFinishedJobsGoAfterTheirOwnShorterRetention(Vertx vertx) {
    JobQueue q = queue(vertx, "JOB_RETENTION", "60s", "IMAGE_RETENTION", "1s");
    String id = await(q.enqueue(edit("x"))).id();
    Claimed c = claimOne(q, "w");
    await(q.complete(id, c.fence(), Images.png(10, 10), null));
    Job done = await(q.get(id));
    sleep(1300);
    assertNull(await(q.image(done.resultRef())));
    assertNull(await(q.image(done.inputRef())));
    assertEquals(JobState.SUCCEEDED, await(q.get(id)).state(), "the record itself stays for JOB_RETENTION");
  }

  @Test
  void brokenRecordIsDeadLetteredWithItsReasonAndTheConsumerCarriesOn(Vertx vertx) {
    JobQueue q = queue(vertx);
    BrokenRecords.queueUnreadable(q, "poison1", 0);
    await(q.redis().send(Command.ZADD, q.keys().waiting(), 1, "ghost")); // an id with no record at all
    String good = await(q.enqueue(edit("fine"))).id();

    Claim c = await(q.claim("w", 3));
    assertEquals(List.of(good), c.jobs().stream().map(Claimed::id).toList());
    assertEquals("dead", hget(q, "poison1", "state"));
    assertEquals("poison_record", hget(q, "poison1", "error_code"));
    assertTrue(hget(q, "poison1", "error_message").contains("params"), hget(q, "poison1", "error_message"));
    assertEquals("dead", hget(q, "ghost", "state"));
    assertEquals("missing_record", hget(q, "ghost", "error_code"));
    assertEquals(2L, await(q.redis().send(Command.ZCARD, q.keys().dead())).toLong());
  }

  @Test
  void aRecordWithoutTimesIsClaimedInsteadOfFailingEveryClaim(Vertx vertx) {
    // written by hand or by an older version: no created_at, queued_at or ready_at (reading it once threw a
    // NullPointerException, which failed the claim call itself after the script had leased the job)
    JobQueue q = queue(vertx);
    await(q.redis().send(Request.cmd(Command.HSET).arg(q.keys().job("bare1")).arg("id").arg("bare1")
        .arg("state").arg("queued").arg("prompt").arg("x").arg("input").arg("nothing.png").arg("seq").arg(0)));
    await(q.redis().send(Command.ZADD, q.keys().waiting(), 0, "bare1"));
    Claimed c = claimOne(q, "w");
    assertEquals("bare1", c.id());
    assertNull(c.job().createdAt());
  }

  @Test
  void deadLetteredBrokenAndGoneRecordsAreStillShownWithTheirReason(Vertx vertx) {
    JobQueue q = queue(vertx);
    BrokenRecords.queueUnreadable(q, "poison2", 0);
    assertInstanceOf(Job.PoisonRecordException.class, failure(q.get("poison2")),
        "a broken record that is not dead yet is still refused as a job");
    await(q.redis().send(Command.ZADD, q.keys().waiting(), 1, "ghost2"));
    assertTrue(await(q.claim("w", 2)).jobs().isEmpty());

    Job ghost = await(q.get("ghost2"));
    assertEquals(JobState.DEAD, ghost.state());
    assertEquals("missing_record", ghost.error().code());
    assertTrue(ghost.error().message().contains("missing"), ghost.error().message());
    Job poison = await(q.get("poison2"));
    assertEquals(JobState.DEAD, poison.state());
    assertEquals("poison_record", poison.error().code());
    assertNull(poison.params(), "the unreadable field is left empty");
    assertEquals("x", poison.prompt());
    assertEquals(List.of("ghost2", "poison2"), await(q.dead(10)).stream().map(Job::id).sorted().toList(),
        "both are listed with the dead letters, not skipped");
    assertNotNull(ghost.toJson().getJsonObject("error"));
  }

  @Test
  void badInputIsRefusedWithAMessageAPersonUnderstands(Vertx vertx) {
    JobQueue q = queue(vertx, "MAX_PROMPT_CHARS", "20", "MAX_IMAGE_BYTES", "2048", "MAX_IMAGE_PIXELS", "10000");
    assertRejected(q, NewJob.of("  ", Images.png(10, 10)), "prompt_missing", "empty");
    assertRejected(q, NewJob.of("x".repeat(21), Images.png(10, 10)), "prompt_too_long", "limit is 20");
    assertRejected(q, NewJob.of("ok", Buffer.buffer("%PDF-1.4 not a picture")), "not_an_image", "PNG, JPEG or WebP");
    assertRejected(q, NewJob.of("ok", Buffer.buffer(new byte[4096])), "image_too_large", "limit is");
    assertRejected(q, NewJob.of("ok", Images.png(200, 200)), "image_too_many_pixels", "200x200");
    assertRejected(q, NewJob.of("ok", null), "image_missing", "send a photo");
    assertRejected(q, NewJob.of("ok", Images.png(10, 10)).withParams(new JsonObject().put("steps", 0)), "bad_input", "steps");
    assertEquals(0L, await(q.depth()));
    assertEquals(0, await(q.redis().send(Command.DBSIZE)).toInteger(), "nothing was stored");
  }

  private static void assertRejected(JobQueue q, NewJob job, String code, String messagePart) {
    Throwable t = failure(q.enqueue(job));
    JobRejectedException e = assertInstanceOf(JobRejectedException.class, t);
    assertEquals(code, e.code());
    assertTrue(e.getMessage().contains(messagePart), e.getMessage());
  }

  @Test
  void fullQueueRefusesNewJobsAndKeepsNoImage(Vertx vertx) {
    JobQueue q = queue(vertx, "QUEUE_MAX_DEPTH", "2");
    await(q.enqueue(edit("a")));
    await(q.enqueue(edit("b")));
    Throwable t = failure(q.enqueue(edit("c")));
    assertEquals("queue_full", assertInstanceOf(JobRejectedException.class, t).code());
    var imgs = await(q.redis().send(Command.KEYS, q.keys().imagePrefix() + "*"));
    assertEquals(2, imgs.size());
  }

  @Test
  void deadLetterSetIsBoundedAndTrimmedJobsAreDeleted(Vertx vertx) {
    JobQueue q = queue(vertx, "DEAD_LETTER_MAX", "2");
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      String id = await(q.enqueue(edit("p" + i))).id();
      ids.add(id);
      Claimed c = claimOne(q, "w");
      await(q.deadLetter(id, c.fence(), "poison_input", "broken"));
      sleep(5);
    }
    List<String> dead = await(q.dead(10)).stream().map(Job::id).toList();
    assertEquals(List.of(ids.get(2), ids.get(1)), dead);
    assertNull(await(q.get(ids.get(0))), "the trimmed job's record is deleted with it");
  }

  @Test
  void deadJobCanBeRetried(Vertx vertx) {
    JobQueue q = queue(vertx);
    String id = await(q.enqueue(edit("x"))).id();
    Claimed c = claimOne(q, "w");
    await(q.deadLetter(id, c.fence(), "boom", "exploded"));
    assertTrue(await(q.retryDead(id)).accepted());
    Job j = await(q.get(id));
    assertEquals(JobState.QUEUED, j.state());
    assertEquals(0, j.attempts());
    assertNull(j.error());
    assertEquals(-1L, await(q.redis().send(Command.PTTL, q.keys().job(id))).toLong());
    assertFalse(await(q.retryDead(id)).accepted(), "only dead jobs can be retried");
    assertEquals(id, claimOne(q, "w").id());
  }

  @Test
  void releaseHandsTheJobBackWithoutCountingTheAttempt(Vertx vertx) {
    JobQueue q = queue(vertx);
    String a = await(q.enqueue(edit("a"))).id();
    String b = await(q.enqueue(edit("b"))).id();
    Claimed c = claimOne(q, "w");
    assertEquals(a, c.id());
    assertTrue(await(q.release(a, c.fence(), "shutdown")).accepted());
    Job j = await(q.get(a));
    assertEquals(JobState.QUEUED, j.state());
    assertEquals(0, j.attempts());
    assertEquals(1, await(q.position(a)), "it keeps its place ahead of later jobs");
    assertEquals(2, await(q.position(b)));
  }

  @Test
  void everyStateChangeIsPublishedAndOutcomesAreRecordedDurably(Vertx vertx) {
    JobQueue q = queue(vertx);
    List<JsonObject> events = new java.util.concurrent.CopyOnWriteArrayList<>();
    var sub = new io.qwenedit.redis.RedisSubscriber(vertx, q.redis().config(), List.of(q.keys().eventsChannel()),
        (ch, msg) -> events.add(new JsonObject(msg)));
    await(sub.start());
    try {
      String id = await(q.enqueue(edit("x"))).id();
      Claimed c = claimOne(q, "w");
      await(q.progress(id, c.fence(), new JsonObject().put("value", 1).put("max", 4)));
      await(q.complete(id, c.fence(), Images.png(4, 4), null));
      io.qwenedit.testing.Await.until("3 events", java.time.Duration.ofSeconds(5), () -> events.size() >= 3);
      // enqueue publishes nothing: its caller gets the position in the reply
      assertEquals(List.of("running", "progress", "succeeded"), events.stream().map(e -> e.getString("type")).toList());
      assertEquals(4, events.get(1).getJsonObject("progress").getInteger("max"));
      assertEquals("w", events.get(0).getString("holder"));
      var outcomes = await(q.redis().send(Command.XRANGE, q.keys().outcomes(), "-", "+"));
      assertEquals(1, outcomes.size());
    } finally {
      await(sub.close());
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
