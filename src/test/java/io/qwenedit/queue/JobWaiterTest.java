package io.qwenedit.queue;

import static io.qwenedit.testing.Await.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qwenedit.config.Config;
import io.qwenedit.queue.QueueResults.Claimed;
import io.qwenedit.redis.RedisCommands;
import io.qwenedit.testing.Images;
import io.qwenedit.testing.RedisServerExtension;
import io.qwenedit.testing.TcpProxy;
import io.qwenedit.testing.TestConfigs;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The blocking wait loop against a real Redis: pick-up, outages, restarts and silently dead connections. */
@ExtendWith(VertxExtension.class)
class JobWaiterTest {
  @RegisterExtension
  static final RedisServerExtension REDIS = new RedisServerExtension(true);

  private final List<AutoCloseable> cleanup = new ArrayList<>();

  @AfterEach
  void cleanUp() throws Exception {
    for (int i = cleanup.size() - 1; i >= 0; i--) {
      cleanup.get(i).close();
    }
    cleanup.clear();
  }

  private JobQueue queue(Vertx vertx, String url) {
    Config cfg = TestConfigs.config(url);
    RedisCommands redis = new RedisCommands(vertx, cfg.redis(), "test");
    cleanup.add(() -> await(redis.close()));
    return new JobQueue(redis, cfg.queue());
  }

  private JobWaiter waiter(Vertx vertx, JobQueue q, String url, String holder) {
    Config cfg = TestConfigs.config(url);
    JobWaiter w = new JobWaiter(vertx, q, cfg.redis(), cfg.queue(), holder);
    cleanup.add(() -> await(w.close()));
    return w;
  }

  /** Keeps calling next() until a job arrives (an empty result means "a wait cycle ended, ask again"). */
  private static Future<List<Claimed>> nextJob(Vertx vertx, JobWaiter w, int max) {
    Promise<List<Claimed>> p = Promise.promise();
    vertx.runOnContext(v -> loop(w, max, p));
    return p.future();
  }

  private static void loop(JobWaiter w, int max, Promise<List<Claimed>> p) {
    w.next(max).onSuccess(jobs -> {
      if (jobs.isEmpty()) {
        loop(w, max, p);
      } else {
        p.complete(jobs);
      }
    });
  }

  @Test
  void waitingConsumerPicksUpANewJobAtOnce(Vertx vertx) throws Exception {
    JobQueue q = queue(vertx, REDIS.url());
    JobWaiter w = waiter(vertx, q, REDIS.url(), "w1");
    Future<List<Claimed>> pending = nextJob(vertx, w, 1);
    Thread.sleep(300); // the waiter is parked in BZPOPMIN now
    long t0 = System.nanoTime();
    String id = await(q.enqueue(NewJob.of("x", Images.png(8, 8)))).id();
    List<Claimed> got = await(pending);
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertEquals(id, got.get(0).id());
    assertTrue(ms < 500, "picked up in " + ms + " ms");
  }

  @Test
  void idleWaiterIssuesOnlyBlockingWaits(Vertx vertx) throws Exception {
    JobQueue q = queue(vertx, REDIS.url());
    JobWaiter w = waiter(vertx, q, REDIS.url(), "idle");
    Future<List<Claimed>> pending = nextJob(vertx, w, 1);
    Thread.sleep(500);
    REDIS.command("CONFIG RESETSTAT");
    Thread.sleep(3_200); // about three 1 s block cycles
    String info = infoCommandStats();
    assertTrue(info.contains("cmdstat_bzpopmin"), info);
    assertTrue(!info.contains("cmdstat_evalsha") && !info.contains("cmdstat_eval:"), "no claim script at idle: " + info);
    await(q.enqueue(NewJob.of("x", Images.png(8, 8))));
    assertEquals(1, await(pending).size());
  }

  private static String infoCommandStats() {
    // the first reply line of a bulk string is its length; read the whole thing over a socket
    try (var s = new java.net.Socket("127.0.0.1", REDIS.port())) {
      s.getOutputStream().write("INFO commandstats\r\n".getBytes());
      s.setSoTimeout(2000);
      var in = new java.io.BufferedReader(new java.io.InputStreamReader(s.getInputStream()));
      int len = Integer.parseInt(in.readLine().substring(1));
      char[] buf = new char[len];
      int off = 0;
      while (off < len) {
        off += in.read(buf, off, len - off);
      }
      return new String(buf).lines().filter(l -> l.startsWith("cmdstat_")).filter(l -> !l.startsWith("cmdstat_info")
          && !l.startsWith("cmdstat_config")).reduce("", (a, b) -> a + b + "\n");
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void waitLoopRecoversByItselfWhenRedisIsStoppedAndStartedAgain(Vertx vertx) throws Exception {
    JobQueue q = queue(vertx, REDIS.url());
    JobWaiter w = waiter(vertx, q, REDIS.url(), "survivor");
    String before = await(q.enqueue(NewJob.of("before", Images.png(8, 8)))).id();
    assertEquals(before, await(nextJob(vertx, w, 1)).get(0).id());

    Future<List<Claimed>> pending = nextJob(vertx, w, 1);
    Thread.sleep(300);
    REDIS.server().kill();
    Thread.sleep(1_500); // the loop fails and keeps retrying meanwhile
    REDIS.server().restart();
    String after = await(q.enqueue(NewJob.of("after", Images.png(8, 8)))).id();
    List<Claimed> got = await(pending, Duration.ofSeconds(15));
    assertEquals(after, got.get(0).id());
    assertTrue(w.failures() > 0, "the outage was seen");
    assertTrue(!w.degraded());
  }

  @Test
  void silentlyDeadConnectionIsReplacedWithinBlockTimePlusGrace(Vertx vertx) throws Exception {
    TcpProxy proxy = new TcpProxy(REDIS.port());
    cleanup.add(proxy);
    JobQueue direct = queue(vertx, REDIS.url());
    JobQueue viaProxy = queue(vertx, proxy.redisUrl());
    JobWaiter w = waiter(vertx, viaProxy, proxy.redisUrl(), "behind-nat");

    Future<List<Claimed>> pending = nextJob(vertx, w, 1);
    Thread.sleep(400);
    proxy.freezeExisting(); // packets stop; nothing is closed
    long frozenAt = System.nanoTime();
    String id = await(direct.enqueue(NewJob.of("x", Images.png(8, 8)))).id();
    List<Claimed> got = await(pending, Duration.ofSeconds(10));
    long ms = (System.nanoTime() - frozenAt) / 1_000_000;
    assertEquals(id, got.get(0).id());
    assertTrue(w.guardFires() >= 1, "the guard noticed the silent connection");
    // block 1 s + grace 0.5 s, plus a fresh connection and a claim; the pooled client may also need replacing
    assertTrue(ms < 1_500 + 2_000 + 1_500, "recovered after " + ms + " ms");
  }
}
