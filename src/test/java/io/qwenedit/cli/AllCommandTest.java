package io.qwenedit.cli;

import static io.qwenedit.testing.Await.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qwenedit.emulator.ComfyEmulator;
import io.qwenedit.emulator.EmulatorImages;
import io.qwenedit.emulator.EmulatorOptions;
import io.qwenedit.redis.LocalRedisServer;
import io.qwenedit.testing.ChildProcess;
import io.qwenedit.testing.DocumentedFields;
import io.qwenedit.testing.Images;
import io.qwenedit.testing.RedisServerExtension;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code all} as a child JVM (what {@code java -jar qwenedit.jar all} runs), against a real Redis and an in-process
 * ComfyUI emulator: an edit submitted with {@code submit --wait} comes back, {@code status --json} shows the
 * deployment with exactly the documented fields, the log file is JSON with the job id on job lines, SIGTERM exits 0.
 */
class AllCommandTest {
  @RegisterExtension
  static final RedisServerExtension REDIS = new RedisServerExtension(true);

  @TempDir
  Path dir;
  private Vertx vertx;
  private ChildProcess all;

  record Result(int code, String out, String err) {}

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void tearDown() throws Exception {
    if (all != null) {
      all.close();
    }
    await(vertx.close());
  }

  private Result cli(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = Main.run(List.of(args), new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
        Map.of("REDIS_URL", REDIS.url(), "REDIS_CONNECT_TIMEOUT", "1s"), dir, false);
    return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void allRunsTheRolesReturnsTheEditShowsTheDeploymentAndStopsWithExitZero() throws Exception {
    ComfyEmulator comfy = await(ComfyEmulator.start(vertx, EmulatorOptions.fast().withStepTime(Duration.ofMillis(150)).withSteps(16)));
    int httpPort = LocalRedisServer.freePort();
    int healthPort = LocalRedisServer.freePort();
    Path logs = dir.resolve("logs");
    Map<String, String> env = new HashMap<>();
    env.put("REDIS_URL", REDIS.url());
    env.put("COMFYUI_URL", comfy.url());
    env.put("HTTP_HOST", "127.0.0.1");
    env.put("HTTP_PORT", String.valueOf(httpPort));
    env.put("HEALTH_HOST", "127.0.0.1");
    env.put("HEALTH_PORT", String.valueOf(healthPort));
    env.put("WORKER_ID", "all-test");
    env.put("WORKER_HEARTBEAT_INTERVAL", "300ms");
    env.put("WORKER_SHUTDOWN_GRACE", "2s");
    env.put("LOG_DIR", logs.toString());
    env.put("LOG_FORMAT", "json");
    all = ChildProcess.start(env, dir.resolve("all"), "all");
    all.awaitLog("qwenedit all started: api, worker", 60_000);

    Buffer input = Images.png(120, 80);
    Path image = dir.resolve("photo.png");
    Files.write(image, input.getBytes());
    String prompt = "make the sky purple";
    CompletableFuture<Result> submit = CompletableFuture.supplyAsync(() -> cli("submit", "--image", image.toString(), "--prompt", prompt,
        "--wait", "--out", "edited.png", "--timeout", "60", "--json"));

    // while it runs: the deployment as status shows it, field by field as documented
    JsonObject status = null;
    long deadline = System.currentTimeMillis() + 30_000;
    while (System.currentTimeMillis() < deadline) {
      Result r = cli("status", "--json");
      assertEquals(0, r.code(), r.err());
      JsonObject s = new JsonObject(r.out());
      JsonArray workers = s.getJsonArray("workers");
      if (!s.getJsonArray("running").isEmpty() && s.getJsonArray("running").getJsonObject(0).getString("gpu") != null
          && workers.size() == 1 && !workers.getJsonObject(0).getJsonArray("jobs").isEmpty()
          && workers.getJsonObject(0).getJsonArray("verticles").stream().allMatch(v -> "ok".equals(((JsonObject) v).getString("status")))) {
        status = s;
        break;
      }
      Thread.sleep(50);
    }
    assertTrue(status != null, "status never showed the job running on the worker:\n" + all.log());
    assertEquals(List.of(), DocumentedFields.read(Path.of("docs/operations.md"), "status-json").check(status), status.encodePrettily());
    JsonObject worker = status.getJsonArray("workers").getJsonObject(0);
    assertEquals("all-test", worker.getString("id"));
    assertEquals("busy", worker.getJsonArray("gpus").getJsonObject(0).getString("state"));
    assertEquals(5, worker.getJsonArray("verticles").size(), worker.encodePrettily());
    Result human = cli("status");
    assertTrue(human.out().contains("all-test") && human.out().contains("gpu0   busy") && human.out().contains("verticles all ok"), human.out());

    Result done = submit.get(60, TimeUnit.SECONDS);
    assertEquals(0, done.code(), done.err() + done.out() + "\n" + all.log());
    JsonObject job = new JsonObject(done.out().strip());
    assertEquals(List.of(), DocumentedFields.read(Path.of("docs/operations.md"), "job-json").check(withoutResultFile(job)), job.encodePrettily());
    Buffer edited = Buffer.buffer(Files.readAllBytes(Path.of(job.getString("result_file"))));
    assertTrue(EmulatorImages.matches(input, edited, prompt), "the result is the emulator's edit of our picture for our prompt");
    String id = job.getString("id");

    assertEquals(200, get("http://127.0.0.1:" + httpPort + "/health/ready").code);
    Http metrics = get("http://127.0.0.1:" + healthPort + "/metrics");
    assertTrue(metrics.body.contains("qwenedit_jobs_finished_total{outcome=\"succeeded\"} 1.0"), metrics.body);

    all.terminate();
    assertEquals(Integer.valueOf(0), all.waitFor(30_000), all.log());

    Path logFile = logs.resolve("all.log");
    assertTrue(Files.exists(logFile), "the role's log file: " + logFile);
    List<String> lines = Files.readAllLines(logFile);
    assertFalse(lines.isEmpty());
    List<JsonObject> aboutTheJob = new ArrayList<>();
    for (String line : lines) {
      JsonObject l = new JsonObject(line); // every line is JSON
      if (l.getString("formattedMessage", "").contains("job " + id)) {
        aboutTheJob.add(l);
      }
    }
    assertTrue(aboutTheJob.size() >= 2, "the claim and the ComfyUI dispatch are logged about the job: " + lines);
    for (JsonObject l : aboutTheJob) {
      assertEquals(id, l.getJsonArray("kvpList").getJsonObject(0).getString("job_id"), l.encode());
    }
    assertTrue(lines.stream().anyMatch(l -> l.contains("stopped cleanly")), "the graceful stop is in the file too");
  }

  private static JsonObject withoutResultFile(JsonObject job) {
    JsonObject copy = job.copy();
    assertTrue(copy.getValue("result_file") instanceof String, "submit --out adds result_file: " + job.encode());
    copy.remove("result_file");
    return copy;
  }

  private record Http(int code, String body) {}

  private static Http get(String url) throws Exception {
    HttpURLConnection c = (HttpURLConnection) URI.create(url).toURL().openConnection();
    c.setConnectTimeout(5_000);
    c.setReadTimeout(10_000);
    int code = c.getResponseCode();
    byte[] body = (code < 400 ? c.getInputStream() : c.getErrorStream()).readAllBytes();
    return new Http(code, new String(body, StandardCharsets.UTF_8));
  }
}
