package io.qwenedit.cli;

import static io.qwenedit.testing.Await.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qwenedit.config.Config;
import io.qwenedit.queue.Job;
import io.qwenedit.queue.JobError;
import io.qwenedit.queue.JobQueue;
import io.qwenedit.queue.NewJob;
import io.qwenedit.queue.QueueResults.Claimed;
import io.qwenedit.redis.RedisCommands;
import io.qwenedit.testing.DocumentedFields;
import io.qwenedit.testing.Images;
import io.qwenedit.testing.RedisServerExtension;
import io.qwenedit.testing.TestConfigs;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code jobs show / watch / find / purge-dead} against a real redis-server, through Main.run. */
class JobsToolsTest {
  @RegisterExtension
  static final RedisServerExtension REDIS = new RedisServerExtension();

  @TempDir
  Path dir;
  private Vertx vertx;
  private RedisCommands redis;
  private JobQueue q;

  record Result(int code, String out, String err) {}

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    Config cfg = TestConfigs.config(REDIS.url());
    redis = new RedisCommands(vertx, cfg.redis(), "test");
    q = new JobQueue(redis, cfg.queue());
  }

  @AfterEach
  void tearDown() {
    await(redis.close());
    await(vertx.close());
  }

  private Result answering(String stdin, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    InputStream in = stdin == null ? InputStream.nullInputStream() : new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8));
    int code = Main.run(List.of(args), new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
        in, Map.of("REDIS_URL", REDIS.url(), "REDIS_CONNECT_TIMEOUT", "1s"), dir, false);
    return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  private Result run(String... args) {
    return answering(null, args);
  }

  private String enqueue(String prompt, JsonObject source) {
    return await(q.enqueue(NewJob.of(prompt, Images.png(40, 30)).withSource(source))).id();
  }

  private Claimed claim(String holder) throws InterruptedException {
    long deadline = System.currentTimeMillis() + 10_000;
    while (System.currentTimeMillis() < deadline) {
      List<Claimed> got = await(q.claim(holder, 1)).jobs();
      if (!got.isEmpty()) {
        return got.get(0);
      }
      Thread.sleep(20);
    }
    throw new AssertionError("nothing to claim");
  }

  @Test
  void showGivesEveryAttemptWithItsWorkerGpuTimingAndErrorAndTheResult() throws Exception {
    String id = enqueue("make the sky purple", new JsonObject().put("kind", "telegram").put("chat", 100).put("user", 7));
    Result queued = run("jobs", "show", id);
    assertEquals(0, queued.code(), queued.err());
    assertTrue(queued.out().contains("QUEUED") && queued.out().contains("1 in line"), queued.out());
    assertTrue(queued.out().contains("Telegram user 7 in chat 100"), queued.out());

    Claimed first = claim("worker-a");
    await(q.renew(id, first.fence(), "gpu0", "prompt-1"));
    Result running = run("jobs", "show", id);
    assertTrue(running.out().contains("RUNNING") && running.out().contains("worker-a, GPU gpu0"), running.out());
    await(q.fail(id, first.fence(), 1, JobError.retryable("comfy_http_5xx", "ComfyUI answered 500")));
    Claimed second = claim("worker-b"); // the back-off is 100 ms in tests
    await(q.renew(id, second.fence(), "gpu1", "prompt-2"));
    await(q.complete(id, second.fence(), Images.png(40, 30), new JsonObject().put("format", "png").put("width", 40).put("height", 30)));

    Result show = run("jobs", "show", id);
    assertEquals(0, show.code(), show.err());
    String text = show.out();
    assertTrue(text.contains("SUCCEEDED"), text);
    assertTrue(text.contains("#1 worker-a gpu0") && text.contains("error: comfy_http_5xx - ComfyUI answered 500"), text);
    assertTrue(text.contains("#2 worker-b gpu1") && text.contains("succeeded"), text);
    assertTrue(text.contains("result") && text.contains("png 40x30"), text);

    JsonObject json = new JsonObject(run("jobs", "show", id, "--json").out());
    assertEquals("succeeded", json.getString("state"));
    assertTrue(json.containsKey("position") && json.getValue("position") == null, json.encode());
    JsonObject documented = json.copy();
    documented.remove("position");
    assertEquals(List.of(), DocumentedFields.read(Path.of("docs/operations.md"), "job-json").check(documented), json.encodePrettily());
    JsonArray log = json.getJsonArray("attempt_log");
    assertEquals(2, log.size());
    assertEquals("gpu0", log.getJsonObject(0).getString("gpu"));
    assertEquals("comfy_http_5xx", log.getJsonObject(0).getString("code"));
    assertTrue(log.getJsonObject(0).getLong("ended_at") >= log.getJsonObject(0).getLong("started_at"));
    assertEquals("worker-b", log.getJsonObject(1).getString("holder"));

    Result missing = run("jobs", "show", "nosuchjob0000");
    assertEquals(1, missing.code());
    assertTrue(missing.err().contains("No job nosuchjob0000"), missing.err());
  }

  @Test
  void submitJsonHasExactlyTheDocumentedFields() throws Exception {
    Path image = dir.resolve("cat.png");
    Files.write(image, Images.png(40, 30).getBytes());
    Result r = run("submit", "--image", image.toString(), "--prompt", "make the sky purple", "--json");
    assertEquals(0, r.code(), r.err());
    JsonObject json = new JsonObject(r.out().strip());
    assertEquals(List.of(), DocumentedFields.read(Path.of("docs/operations.md"), "submit-json").check(json), json.encode());
    assertEquals(1, json.getInteger("position"));
  }

  @Test
  void watchFollowsAnExistingJobToItsEndAndExitsZeroOnlyOnSuccess() throws Exception {
    Buffer input = Images.png(40, 30);
    String ok = await(q.enqueue(NewJob.of("fine", input))).id();
    CompletableFuture<Result> watching = CompletableFuture.supplyAsync(() -> run("jobs", "watch", ok, "--out", "out/edited.png", "--timeout", "20"));
    Claimed c = claim("worker-a");
    Thread.sleep(300);
    await(q.complete(ok, c.fence(), Images.png(20, 15), null));
    Result r = watching.get(30, TimeUnit.SECONDS);
    assertEquals(0, r.code(), r.err() + r.out());
    assertTrue(r.out().contains("succeeded; result written to"), r.out());
    assertEquals(20, io.qwenedit.queue.ImageInfo.sniff(Files.readAllBytes(dir.resolve("out/edited.png"))).width());

    String bad = await(q.enqueue(NewJob.of("doomed", input))).id();
    CompletableFuture<Result> failing = CompletableFuture.supplyAsync(() -> run("jobs", "watch", bad, "--json"));
    Claimed d = claim("worker-a");
    await(q.fail(bad, d.fence(), 1, JobError.permanent("invalid_workflow", "model file x.safetensors is missing")));
    Result f = failing.get(30, TimeUnit.SECONDS);
    assertEquals(1, f.code());
    JsonObject end = new JsonObject(f.out().strip());
    assertEquals("failed", end.getString("state"));
    assertEquals("invalid_workflow", end.getJsonObject("error").getString("code"));

    Result none = run("jobs", "watch", "nosuchjob0000");
    assertEquals(1, none.code());
    assertTrue(none.err().contains("does not exist"), none.err());
    assertEquals(2, run("jobs", "watch", ok, "--limit", "3").code(), "options of other subcommands are refused");
  }

  @Test
  void findListsAPersonsJobsNewestFirstFromTheirSource() throws Exception {
    String a1 = enqueue("first", new JsonObject().put("kind", "telegram").put("chat", 100).put("user", 7));
    Thread.sleep(5);
    String a2 = enqueue("second", new JsonObject().put("kind", "telegram").put("chat", 200).put("user", 7));
    String api = enqueue("from the api", new JsonObject().put("kind", "api").put("client", "acme"));
    enqueue("no source at all", null);

    JsonObject byUser = new JsonObject(run("jobs", "find", "--user", "7", "--json").out());
    assertEquals(List.of(a2, a1), ids(byUser.getJsonArray("jobs")), "newest first");
    assertEquals(4, byUser.getLong("scanned"));
    assertEquals(List.of(a1), ids(new JsonObject(run("jobs", "find", "--chat", "100", "--json").out()).getJsonArray("jobs")));
    assertEquals(List.of(a2), ids(new JsonObject(run("jobs", "find", "--user", "7", "--chat", "200", "--json").out()).getJsonArray("jobs")));
    assertEquals(List.of(api), ids(new JsonObject(run("jobs", "find", "--client", "acme", "--json").out()).getJsonArray("jobs")));
    JsonObject limited = new JsonObject(run("jobs", "find", "--kind", "telegram", "--limit", "1", "--json").out());
    assertEquals(List.of(a2), ids(limited.getJsonArray("jobs")));
    assertEquals(2, limited.getLong("matched"));

    Result human = run("jobs", "find", "--user", "7");
    assertTrue(human.out().contains("2 job(s) match") && human.out().contains(a1) && human.out().contains("\"second\""), human.out());
    Result nothing = run("jobs", "find", "--chat", "999");
    assertEquals(0, nothing.code());
    assertTrue(nothing.out().contains("No job matches"), nothing.out());
    Result noFilter = run("jobs", "find");
    assertEquals(2, noFilter.code());
    assertTrue(noFilter.err().contains("needs at least one of --chat"), noFilter.err());
  }

  @Test
  void purgeDeadAsksFirstAndThenDeletesRecordsAndImages() throws Exception {
    List<Job> dead = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      String id = await(q.enqueue(NewJob.of("poison " + i, Images.png(8, 8)).withIdempotencyKey("k" + i))).id();
      Claimed c = claim("w");
      await(q.deadLetter(id, c.fence(), "poison_input", "the input broke the sampler"));
      dead.add(await(q.get(id)));
    }
    String alive = enqueue("still waiting", null);

    Result no = answering("n\n", "jobs", "purge-dead");
    assertEquals(1, no.code());
    assertTrue(no.err().contains("Delete 3 dead-lettered jobs for good") && no.err().contains("Nothing deleted."), no.err());
    assertEquals(3L, await(q.deadCount()));
    Result eof = answering(null, "jobs", "purge-dead");
    assertEquals(1, eof.code());
    assertTrue(eof.err().contains("use --yes"), eof.err());
    assertEquals(3L, await(q.deadCount()));

    Result yes = answering("y\n", "jobs", "purge-dead");
    assertEquals(0, yes.code(), yes.err());
    assertTrue(yes.out().contains("Deleted 3 dead-lettered jobs."), yes.out());
    assertEquals(0L, await(q.deadCount()));
    for (Job j : dead) {
      assertNull(await(q.get(j.id())), "record deleted");
      assertNull(await(q.image(j.inputRef())), "input image deleted");
    }
    assertEquals(0L, await(redis.send(io.vertx.redis.client.Command.EXISTS, q.keys().idempotency("k0"))).toLong());
    assertNotNull(await(q.get(alive)), "a job that is not dead is untouched");
    await(q.cancel(alive));

    String another = await(q.enqueue(NewJob.of("one more", Images.png(8, 8)))).id();
    Claimed c = claim("w");
    assertEquals(another, c.id());
    await(q.deadLetter(another, c.fence(), "poison_input", "again"));
    Result forced = run("jobs", "purge-dead", "--yes", "--json");
    assertEquals(0, forced.code(), forced.err());
    assertEquals(1, new JsonObject(forced.out().strip()).getInteger("purged"));
    assertEquals("No dead-lettered jobs.", run("jobs", "purge-dead").out().strip());
  }

  private static List<String> ids(JsonArray jobs) {
    List<String> out = new ArrayList<>();
    jobs.forEach(o -> out.add(((JsonObject) o).getString("id")));
    return out;
  }

  @Test
  void describeReadsWellForADeadJob() {
    Job j = Job.fromHash(Map.ofEntries(Map.entry("id", "3kq9z0d1v7x2a"), Map.entry("state", "dead"), Map.entry("prompt", "p"),
        Map.entry("input", "x-in.png"), Map.entry("attempts", "3"), Map.entry("created_at", "1000"), Map.entry("finished_at", "4000"),
        Map.entry("error_code", "comfy_timeout"), Map.entry("error_message", "Gave up after 3 attempts: ran longer than 300 s"),
        Map.entry("attempt_log", "[{\"attempt\":3,\"holder\":\"w\",\"started_at\":2000,\"ended_at\":3500,\"outcome\":\"error\","
            + "\"code\":\"comfy_timeout\",\"message\":\"ran longer than 300 s\"}]")));
    String text = JobsCommand.describe(j, null);
    assertTrue(text.contains("DEAD"), text);
    assertTrue(text.contains("(1.5 s)") && text.contains("error: comfy_timeout - ran longer than 300 s"), text);
    assertTrue(text.contains("jobs retry 3kq9z0d1v7x2a"), text);
    assertTrue(text.contains("3.0 s after the request"), text);
  }
}
