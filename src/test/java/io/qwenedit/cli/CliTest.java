package io.qwenedit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qwenedit.config.Config;
import io.qwenedit.queue.JobQueue;
import io.qwenedit.queue.QueueResults.Claimed;
import io.qwenedit.redis.LocalRedisServer;
import io.qwenedit.redis.RedisCommands;
import io.qwenedit.testing.Await;
import io.qwenedit.testing.Images;
import io.qwenedit.testing.RedisServerExtension;
import io.qwenedit.testing.TestConfigs;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The command line against a real redis-server, through Main.run (what `java -jar` does, minus System.exit). */
class CliTest {
  @RegisterExtension
  static final RedisServerExtension REDIS = new RedisServerExtension();

  @TempDir
  Path dir;
  private Path image;

  record Result(int code, String out, String err) {}

  @BeforeEach
  void writeImage() throws Exception {
    image = dir.resolve("cat.png");
    Files.write(image, Images.png(64, 48).getBytes());
  }

  private Result run(String... args) {
    return run(Map.of("REDIS_URL", REDIS.url()), args);
  }

  private Result run(Map<String, String> env, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Map<String, String> e = new HashMap<>(env);
    e.putIfAbsent("REDIS_CONNECT_TIMEOUT", "1s");
    int code = Main.run(List.of(args), new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), e, dir, false);
    return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void aRedisThatAnswersButCannotTakeTheJobSaysSoAndDoesNotSuggestItIsNotRunning() throws Exception {
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", REDIS.port())) {
      // a replica during a failover: it answers, and refuses writes
      s.getOutputStream().write(("REPLICAOF 127.0.0.1 " + io.qwenedit.redis.LocalRedisServer.freePort() + "\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      assertTrue(new String(s.getInputStream().readNBytes(5), StandardCharsets.US_ASCII).startsWith("+OK"));
      try {
        Result r = run("submit", "--image", image.toString(), "--prompt", "make the sky purple");
        assertEquals(ExitCodes.UNAVAILABLE, r.code(), r.err());
        assertTrue(r.err().contains("cannot serve requests right now: READONLY") && r.err().contains("Try again in a moment"),
            r.err());
        assertFalse(r.err().contains("Is redis-server running"), r.err());
      } finally {
        s.getOutputStream().write("REPLICAOF NO ONE\r\n".getBytes(StandardCharsets.US_ASCII));
        s.getInputStream().readNBytes(5);
      }
    }
  }

  @Test
  void helpListsTheCommandsAndUnknownThingsExitNonZero() {
    Result help = run("--help");
    assertEquals(0, help.code());
    assertTrue(help.out().contains("submit") && help.out().contains("status") && help.out().contains("jobs"), help.out());
    Result unknown = run("frobnicate");
    assertEquals(2, unknown.code());
    assertTrue(unknown.err().startsWith("Unknown command 'frobnicate'"), unknown.err());
    Result badOpt = run("status", "--colour");
    assertEquals(2, badOpt.code());
    assertTrue(badOpt.err().contains("Unknown option --colour"), badOpt.err());
    assertEquals(0, run("submit", "--help").code());
  }

  @Test
  void submitJsonPrintsTheIdAndStatusShowsTheQueue() {
    Result r = run("submit", "--image", image.toString(), "--prompt", "make the sky purple", "--json");
    assertEquals(0, r.code(), r.err());
    JsonObject j = new JsonObject(r.out().strip());
    String id = j.getString("id");
    assertEquals(1, j.getInteger("position"));
    Result status = run("status", "--json");
    assertEquals(0, status.code(), status.err());
    JsonObject s = new JsonObject(status.out());
    assertEquals(1L, s.getLong("queue_depth"));
    assertEquals(0L, s.getLong("dead"));
    assertTrue(s.getJsonArray("running").isEmpty());
    assertTrue(s.getJsonArray("workers").isEmpty());
    Result human = run("status");
    assertTrue(human.out().contains("1 waiting") && human.out().contains("0 alive"), human.out());
    assertEquals(0, run("jobs", "cancel", id).code());
  }

  @Test
  void submitRefusesBadInputWithAReadableMessage() throws Exception {
    Path pdf = dir.resolve("doc.pdf");
    Files.writeString(pdf, "%PDF-1.4 hello");
    Result r = run("submit", "--image", pdf.toString(), "--prompt", "x");
    assertEquals(1, r.code());
    assertEquals("Not queued: The file is not a picture this service can read: send a PNG, JPEG or WebP image.", r.err().strip());
    Result missing = run("submit", "--image", dir.resolve("nope.png").toString(), "--prompt", "x");
    assertEquals(1, missing.code());
    assertTrue(missing.err().contains("does not exist"), missing.err());
    assertEquals(2, run("submit", "--prompt", "x").code());
  }

  @Test
  void submitWaitTimesOutClearlyWhenNothingProcessesJobs() {
    long t0 = System.nanoTime();
    Result r = run("submit", "--image", image.toString(), "--prompt", "x", "--wait", "--timeout", "1", "--json");
    assertEquals(4, r.code(), r.err());
    assertTrue((System.nanoTime() - t0) / 1_000_000 < 10_000);
    JsonObject j = new JsonObject(r.out().strip());
    assertEquals("queued", j.getString("state"));
    assertEquals("wait_timeout", j.getJsonObject("error").getString("code"));
    assertTrue(j.getJsonObject("error").getString("message").contains("No worker is running"), j.encode());
  }

  @Test
  void submitWaitFollowsTheJobToItsResultAndWritesTheImage() throws Exception {
    Vertx vertx = Vertx.vertx();
    Config cfg = TestConfigs.config(REDIS.url());
    RedisCommands redis = new RedisCommands(vertx, cfg.redis(), "fake-worker");
    JobQueue q = new JobQueue(redis, cfg.queue());
    try {
      CompletableFuture<Result> cli = CompletableFuture.supplyAsync(() -> run("submit", "--image", image.toString(),
          "--prompt", "x", "--wait", "--timeout", "20", "--out", "out/edited.png", "--json"));
      Claimed c = claimWithin(q, Duration.ofSeconds(10));
      Await.await(q.progress(c.id(), c.fence(), new JsonObject().put("value", 2).put("max", 4)));
      Await.await(q.complete(c.id(), c.fence(), Images.png(32, 24), null));
      Result r = cli.get();
      assertEquals(0, r.code(), r.err());
      JsonObject j = new JsonObject(r.out().strip());
      assertEquals("succeeded", j.getString("state"));
      assertEquals(c.id(), j.getString("id"));
      Path written = Path.of(j.getString("result_file"));
      assertTrue(Files.size(written) > 0);
      assertEquals(32, io.qwenedit.queue.ImageInfo.sniff(Files.readAllBytes(written)).width());
    } finally {
      Await.await(redis.close());
      Await.await(vertx.close());
    }
  }

  @Test
  void submitWaitExitsNonZeroWithTheJobsErrorWhenItFails() throws Exception {
    Vertx vertx = Vertx.vertx();
    Config cfg = TestConfigs.config(REDIS.url());
    RedisCommands redis = new RedisCommands(vertx, cfg.redis(), "fake-worker");
    JobQueue q = new JobQueue(redis, cfg.queue());
    try {
      CompletableFuture<Result> cli = CompletableFuture.supplyAsync(() -> run("submit", "--image", image.toString(),
          "--prompt", "x", "--wait", "--timeout", "20"));
      Claimed c = claimWithin(q, Duration.ofSeconds(10));
      Await.await(q.fail(c.id(), c.fence(), 1, io.qwenedit.queue.JobError.permanent("invalid_workflow",
          "Node 37 (UNETLoader): model file qwen.safetensors is missing")));
      Result r = cli.get();
      assertEquals(1, r.code());
      assertTrue(r.err().contains("failed: Node 37 (UNETLoader): model file qwen.safetensors is missing [invalid_workflow]"), r.err());
    } finally {
      Await.await(redis.close());
      Await.await(vertx.close());
    }
  }

  private static Claimed claimWithin(JobQueue q, Duration limit) throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    while (System.nanoTime() < deadline) {
      List<Claimed> got = Await.await(q.claim("fake-worker", 1)).jobs();
      if (!got.isEmpty()) {
        return got.get(0);
      }
      Thread.sleep(50);
    }
    throw new AssertionError("the CLI never queued its job");
  }

  @Test
  void deadLettersCanBeListedAndRetried() {
    Vertx vertx = Vertx.vertx();
    Config cfg = TestConfigs.config(REDIS.url());
    RedisCommands redis = new RedisCommands(vertx, cfg.redis(), "t");
    JobQueue q = new JobQueue(redis, cfg.queue());
    try {
      List<String> ids = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        String id = Await.await(q.enqueue(io.qwenedit.queue.NewJob.of("p" + i, Images.png(8, 8)))).id();
        Claimed c = Await.await(q.claim("w", 1)).jobs().get(0);
        Await.await(q.deadLetter(id, c.fence(), "poison_input", "the input broke the sampler"));
        ids.add(id);
      }
      Result dead = run("jobs", "dead");
      assertEquals(0, dead.code());
      assertTrue(dead.out().contains(ids.get(0)) && dead.out().contains("poison_input: the input broke the sampler"), dead.out());
      Result json = run("jobs", "dead", "--json");
      assertEquals(2, new JsonObject(json.out()).getJsonArray("dead").size());
      Result one = run("jobs", "retry", ids.get(0));
      assertEquals(0, one.code(), one.err());
      assertTrue(one.out().contains("back in line (number 1)"), one.out());
      Result again = run("jobs", "retry", ids.get(0));
      assertEquals(1, again.code());
      assertTrue(again.err().contains("it is queued, not dead"), again.err());
      Result all = run("jobs", "retry", "--all-dead", "--json");
      assertEquals(1, new JsonObject(all.out().strip()).getInteger("retried"));
      assertEquals(2L, Await.await(q.depth()));
    } finally {
      Await.await(redis.close());
      Await.await(vertx.close());
    }
  }

  @Test
  void unreachableRedisGivesOneLineNamingTheAddressAndExitsFast() {
    int port = LocalRedisServer.freePort();
    long t0 = System.nanoTime();
    Result r = run(Map.of("REDIS_HOST", "127.0.0.1", "REDIS_PORT", String.valueOf(port)), "status");
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertEquals(3, r.code());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    assertTrue(r.err().contains("Redis at 127.0.0.1:" + port + "/0 is unreachable: connection refused"), r.err());
    assertTrue(ms < 10_000, "took " + ms + " ms");
    Result submit = run(Map.of("REDIS_PORT", String.valueOf(port)), "submit", "--image", image.toString(), "--prompt", "x");
    assertEquals(3, submit.code());
  }

  @Test
  void wrongRedisCredentialsGiveAClearErrorAndTheCommandEnds() {
    try (LocalRedisServer secured = LocalRedisServer.start(LocalRedisServer.freePort(),
        List.of("--appendonly", "no", "--requirepass", "right-password"))) {
      String base = "127.0.0.1:" + secured.port() + "/0";
      Result wrong = run(Map.of("REDIS_URL", "redis://:wrong-password@" + base), "status");
      assertEquals(3, wrong.code(), wrong.err());
      assertTrue(wrong.err().contains("Redis refused the credentials") || wrong.err().contains("WRONGPASS"), wrong.err());
      assertFalse(wrong.err().contains("wrong-password"), "the password is never printed");
      Result none = run(Map.of("REDIS_URL", "redis://" + base), "status");
      assertEquals(3, none.code(), none.err());
      Result right = run(Map.of("REDIS_URL", "redis://" + base, "REDIS_PASSWORD", "right-password"), "status", "--json");
      assertEquals(0, right.code(), right.err());
    }
  }

  @Test
  void badConfigurationStopsWithOneLine() {
    Result r = run(Map.of("REDIS_PORT", "abc"), "status");
    assertEquals(2, r.code());
    assertEquals("Invalid setting REDIS_PORT=\"abc\" (from environment): expected a whole number from 1 to 65535", r.err().strip());
    assertFalse(r.err().contains("Exception"));
  }
}
