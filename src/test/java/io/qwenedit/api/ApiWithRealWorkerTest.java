package io.qwenedit.api;

import static io.qwenedit.testing.Await.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qwenedit.config.Config;
import io.qwenedit.emulator.ComfyEmulator;
import io.qwenedit.emulator.EmulatorOptions;
import io.qwenedit.metrics.Meters;
import io.qwenedit.queue.Job;
import io.qwenedit.queue.JobQueue;
import io.qwenedit.redis.LocalRedisServer;
import io.qwenedit.redis.RedisCommands;
import io.qwenedit.testing.Await;
import io.qwenedit.testing.Images;
import io.qwenedit.testing.RedisServerExtension;
import io.qwenedit.worker.WorkerRole;
import io.qwenedit.worker.WorkerTestSupport;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.ext.web.multipart.MultipartForm;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The API and a real worker (with its supervisor) in one process, as {@code all} runs them, against the ComfyUI
 * emulator and a real redis-server: metrics, cancel and readiness proven through the real chain, not a simulated
 * worker or hand-fed meters.
 */
class ApiWithRealWorkerTest {
  @RegisterExtension
  static final RedisServerExtension REDIS = new RedisServerExtension();
  private static final Duration WAIT = Duration.ofSeconds(30);
  /** A wedged GPU is freed only once the interrupt of its stuck prompt goes unconfirmed (15 s, not configurable). */
  private static final Duration WEDGE_WAIT = Duration.ofSeconds(60);
  private static final Set<String> ENDED = Set.of("succeeded", "failed", "dead", "cancelled");

  /** The emulator and the test's own clients: outside the process under test, so they never add to its meters. */
  private Vertx outside;
  private Vertx process;
  private WorkerRole worker;
  private ComfyEmulator comfy;
  private Config config;
  private WebClient http;
  private RedisCommands redis;
  private JobQueue queue;
  private SseClient sse;

  @BeforeEach
  void setUp() {
    outside = Vertx.vertx();
  }

  @AfterEach
  void tearDown() {
    List<Runnable> steps = List.of(
        () -> {
          if (sse != null) {
            sse.close();
          }
        },
        () -> {
          if (worker != null) {
            await(worker.shutdown(Duration.ofSeconds(1)), Duration.ofSeconds(60));
          }
        },
        // closed from this thread: a continuation on the closing event loop would never run
        () -> {
          if (process != null) {
            await(process.close(), Duration.ofSeconds(30));
          }
        },
        () -> {
          if (http != null) {
            http.close();
          }
        },
        () -> {
          if (redis != null) {
            await(redis.close());
          }
        },
        () -> await(outside.close(), Duration.ofSeconds(30)));
    Throwable first = null;
    for (Runnable step : steps) {
      try {
        step.run();
      } catch (RuntimeException | Error e) {
        first = first == null ? e : first; // keep closing the rest
      }
    }
    if (first instanceof RuntimeException e) {
      throw e;
    } else if (first instanceof Error e) {
      throw e;
    }
  }

  /** Starts the emulator, then one service Vert.x with the API role and the worker role on it (as RoleSet does). */
  private void start(EmulatorOptions emulator) {
    comfy = await(ComfyEmulator.start(outside, emulator));
    int apiPort = LocalRedisServer.freePort();
    int healthPort;
    do {
      healthPort = LocalRedisServer.freePort();
    } while (healthPort == apiPort);
    config = WorkerTestSupport.config(WorkerTestSupport.fastSettings(REDIS.url(), List.of(comfy.url())),
        "HTTP_HOST", "127.0.0.1", "HTTP_PORT", String.valueOf(apiPort),
        "HEALTH_HOST", "127.0.0.1", "HEALTH_PORT", String.valueOf(healthPort),
        "HEALTH_CHECK_TIMEOUT", "1s", "METRICS_QUEUE_INTERVAL", "200ms");
    process = Meters.vertxWithMetrics(new VertxOptions());
    await(ApiRole.deploy(process, config), Duration.ofSeconds(20));
    worker = await(WorkerRole.deploy(process, config, WorkerTestSupport.fastSupervision()), Duration.ofSeconds(30));
    http = WebClient.create(outside, new WebClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(apiPort).setKeepAlive(false));
    redis = new RedisCommands(outside, config.redis(), "test");
    queue = new JobQueue(redis, config.queue());
  }

  private String submit(String prompt, Integer steps) {
    MultipartForm form = HttpApiTest.form(prompt, Images.png(96, 64));
    if (steps != null) {
      form.attribute("steps", String.valueOf(steps));
    }
    HttpResponse<Buffer> r = await(http.post("/v1/jobs").sendMultipartForm(form));
    assertEquals(202, r.statusCode(), r.bodyAsString());
    return r.bodyAsJsonObject().getString("id");
  }

  private JsonObject view(String id) {
    HttpResponse<Buffer> r = await(http.get("/v1/jobs/" + id).send());
    assertEquals(200, r.statusCode(), r.bodyAsString());
    return r.bodyAsJsonObject();
  }

  /** Polls GET /v1/jobs/{id} until the job has ended; returns what the API shows then. */
  private JsonObject awaitEnd(String id, Duration limit) {
    AtomicReference<JsonObject> last = new AtomicReference<>();
    try {
      Await.until("job " + id + " ends", limit, () -> {
        last.set(view(id));
        return ENDED.contains(last.get().getString("state"));
      });
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "; last seen: " + (last.get() == null ? "nothing" : last.get().encodePrettily()), e);
    }
    return last.get();
  }

  private String scrape() {
    HttpResponse<Buffer> r = await(http.get("/metrics").send());
    assertEquals(200, r.statusCode());
    return r.bodyAsString();
  }

  /** A counter or histogram count that was never recorded has no series yet: that is zero. */
  private static double count(String text, String name, String... labels) {
    double v = Prometheus.value(text, name, labels);
    return Double.isNaN(v) ? 0 : v;
  }

  private static long requests(JsonObject emulatorStats, String... endpoints) {
    JsonObject r = emulatorStats.getJsonObject("requests");
    long n = 0;
    for (String e : endpoints) {
      n += r.getLong(e, 0L);
    }
    return n;
  }

  @Test
  void metricsCountEveryRealJobOnceAndAPermanentFailureAsFailed() {
    start(EmulatorOptions.fast().withSteps(4));
    int n = 3;
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ids.add(submit("job " + i, null));
    }
    for (String id : ids) {
      JsonObject end = awaitEnd(id, WAIT);
      assertEquals("succeeded", end.getString("state"), end.encodePrettily());
      assertEquals(1, end.getInteger("attempts"));
    }
    // the deployment-wide gauges are read from Redis, the GPU state at the arbiter's next tick
    Await.until("an empty queue and a healthy, free GPU", WAIT, () -> {
      String t = scrape();
      return count(t, "qwenedit_queue_depth") == 0 && count(t, "qwenedit_jobs_running") == 0
          && count(t, "qwenedit_gpu_state", "gpu=\"gpu0\"", "state=\"healthy\"") == 1;
    });
    String text = scrape();
    JsonObject emulated = await(comfy.stats());

    assertEquals(n, count(text, "qwenedit_api_submissions_total", "result=\"accepted\""), text);
    assertEquals(n, count(text, "qwenedit_jobs_finished_total", "outcome=\"succeeded\""), text);
    assertEquals(0, count(text, "qwenedit_jobs_finished_total", "outcome=\"failed\""));
    assertEquals(0, count(text, "qwenedit_jobs_finished_total", "outcome=\"dead\""));
    assertEquals(n, count(text, "qwenedit_job_end_to_end_seconds_count", "outcome=\"succeeded\""));
    assertEquals(n, count(text, "qwenedit_job_execution_seconds_count", "outcome=\"succeeded\""));
    assertEquals(n, count(text, "qwenedit_job_queue_wait_seconds_count"));
    assertEquals(n, count(text, "qwenedit_job_pickup_seconds_count"));
    assertEquals(n, count(text, "qwenedit_job_attempts_started_total"));
    assertEquals(n, count(text, "qwenedit_job_attempts_count"));
    assertEquals(n, count(text, "qwenedit_job_attempts_sum"), "one attempt each");
    assertEquals(0, count(text, "qwenedit_lease_expired_total"));
    assertTrue(count(text, "qwenedit_gpu_busy_seconds_total", "gpu=\"gpu0\"") > 0, text);
    assertEquals(0, count(text, "qwenedit_gpu_state", "gpu=\"gpu0\"", "state=\"wedged\""));

    // ComfyUI requests: every endpoint of a dispatch and of the health probe is counted ...
    for (String endpoint : List.of("/upload/image", "/prompt", "/ws", "/view", "/system_stats", "/queue", "/history")) {
      assertTrue(count(text, "qwenedit_comfy_request_seconds_count", "endpoint=\"" + endpoint + "\"", "result=\"ok\"") > 0,
          endpoint + " is counted: " + text);
    }
    // ... exactly once per request: only the dispatcher calls these, and the emulator counted what it received
    assertEquals(n, requests(emulated, "POST /upload/image"), emulated.encodePrettily());
    assertEquals(requests(emulated, "POST /upload/image"),
        count(text, "qwenedit_comfy_request_seconds_count", "endpoint=\"/upload/image\"", "result=\"ok\""));
    assertEquals(n, requests(emulated, "POST /prompt"), emulated.encodePrettily());
    assertEquals(requests(emulated, "GET /prompt", "POST /prompt"),
        count(text, "qwenedit_comfy_request_seconds_count", "endpoint=\"/prompt\"", "result=\"ok\""));
    assertEquals(requests(emulated, "GET /view"), count(text, "qwenedit_comfy_request_seconds_count", "endpoint=\"/view\"", "result=\"ok\""));

    // One job that cannot succeed: ComfyUI cannot read its image, which no retry can change.
    await(comfy.setFaults(new JsonObject().put("next", new JsonArray().add(new JsonObject().put("fault", "error")
        .put("exception_type", "PIL.UnidentifiedImageError").put("exception_message", "cannot identify image file")))));
    String bad = submit("this one cannot be read", null);
    JsonObject failed = awaitEnd(bad, WAIT);
    assertEquals("failed", failed.getString("state"), failed.encodePrettily());
    assertEquals("comfy_execution_error", failed.getJsonObject("error").getString("code"));
    assertEquals(1, failed.getInteger("attempts"), "a permanent failure is not tried again");

    Await.until("the queue's own totals", WAIT, () -> {
      String t = scrape();
      return count(t, "qwenedit_queue_jobs_total", "event=\"enqueued\"") == n + 1
          && count(t, "qwenedit_queue_jobs_total", "event=\"succeeded\"") == n
          && count(t, "qwenedit_queue_jobs_total", "event=\"failed\"") == 1
          && count(t, "qwenedit_queue_depth") == 0;
    });
    text = scrape();
    assertEquals(1, count(text, "qwenedit_jobs_finished_total", "outcome=\"failed\""), text);
    assertEquals(0, count(text, "qwenedit_jobs_finished_total", "outcome=\"dead\""));
    assertEquals(n, count(text, "qwenedit_jobs_finished_total", "outcome=\"succeeded\""));
    assertEquals(1, count(text, "qwenedit_job_end_to_end_seconds_count", "outcome=\"failed\""));
    assertEquals(1, count(text, "qwenedit_job_execution_seconds_count", "outcome=\"failed\""));
    assertEquals(n + 1, count(text, "qwenedit_job_queue_wait_seconds_count"));
    assertEquals(n + 1, count(text, "qwenedit_job_pickup_seconds_count"));
    assertEquals(n + 1, count(text, "qwenedit_job_attempts_started_total"));
    assertEquals(n + 1, count(text, "qwenedit_job_attempts_count"));
  }

  @Test
  void cancelWhileRunningInterruptsThatPromptEndsTheStreamCancelledAndTheWorkerGoesOn() {
    start(EmulatorOptions.defaults().withStepTime(Duration.ofMillis(250)));
    String id = submit("a long one", 60); // 15 s of sampling: plenty of time to cancel it mid-run
    sse = SseClient.open(outside, config.api().port(), "/v1/jobs/" + id + "/events", null);
    assertEquals(200, sse.status());

    AtomicReference<String> promptId = new AtomicReference<>();
    Await.until("the job runs and its prompt executes on ComfyUI", WAIT, () -> {
      Job j = await(queue.get(id));
      String running = await(comfy.stats()).getString("running_prompt_id");
      promptId.set(j.promptId());
      return "running".equals(view(id).getString("state")) && j.promptId() != null && j.promptId().equals(running);
    });
    sse.waitFor("progress", d -> d.getJsonObject("progress") != null
        && "sampling".equals(d.getJsonObject("progress").getString("stage")), WAIT);
    assertEquals(0, await(comfy.stats()).getInteger("interrupt_requests"), "nothing interrupted before the cancel");

    HttpResponse<Buffer> cancel = await(http.delete("/v1/jobs/" + id).send());
    assertEquals(202, cancel.statusCode(), cancel.bodyAsString());
    assertTrue(cancel.bodyAsJsonObject().getBoolean("cancel_requested"));

    JsonObject outcome = sse.waitFor("outcome", d -> true, WAIT).data();
    assertEquals("cancelled", outcome.getString("state"), outcome.encodePrettily());
    await(sse.ended(), WAIT);
    List<String> names = sse.events().stream().map(SseClient.Event::name).toList();
    assertEquals("outcome", names.get(names.size() - 1), "the outcome ends the stream: " + names);
    assertEquals("cancelled", awaitEnd(id, WAIT).getString("state"));

    // ComfyUI got a targeted interrupt, and it stopped that prompt (a global one could stop someone else's)
    JsonObject emulated = await(comfy.stats());
    assertTrue(emulated.getInteger("interrupts_targeted") >= 1, emulated.encodePrettily());
    assertEquals(emulated.getInteger("interrupt_requests"), emulated.getInteger("interrupts_targeted"), "no global interrupt");
    assertEquals(1, emulated.getInteger("interrupts_effective"), emulated.encodePrettily());
    assertEquals(1, emulated.getInteger("prompts_interrupted"));
    assertEquals(0, emulated.getInteger("prompts_succeeded"));
    JsonObject history = await(http.getAbs(comfy.url() + "/history/" + promptId.get()).send())
        .bodyAsJsonObject().getJsonObject(promptId.get());
    assertNotNull(history, "ComfyUI's history has the job's prompt " + promptId.get());
    JsonArray messages = history.getJsonObject("status").getJsonArray("messages");
    assertTrue(messages.stream().anyMatch(m -> "execution_interrupted".equals(((JsonArray) m).getString(0))),
        "the job's own prompt was the one interrupted: " + history.getJsonObject("status").encodePrettily());

    // the worker carries on with the next job
    String next = submit("the next one", 4);
    JsonObject done = awaitEnd(next, WAIT);
    assertEquals("succeeded", done.getString("state"), done.encodePrettily());
    assertEquals(1, await(comfy.stats()).getInteger("prompts_succeeded"));

    String text = scrape();
    assertEquals(1, count(text, "qwenedit_jobs_finished_total", "outcome=\"cancelled\""), text);
    assertEquals(1, count(text, "qwenedit_jobs_finished_total", "outcome=\"succeeded\""));
    assertEquals(1, count(text, "qwenedit_comfy_interrupts_total", "reason=\"cancel\""));
    assertEquals(1, count(text, "qwenedit_job_execution_seconds_count", "outcome=\"cancelled\""));
  }

  @Test
  void readinessNamesTheWedgedGpuWithItsLastGoodProbeAndRecovers() throws InterruptedException {
    start(EmulatorOptions.fast().withSteps(4)
        .withFaults(new JsonObject().put("next", new JsonArray().add(new JsonObject().put("fault", "wedge")))));
    Await.until("ready", WAIT, () -> ready().statusCode() == 200);
    JsonObject healthy = gpu(checks(ready().bodyAsJsonObject()).get("worker/gpus"));
    assertEquals("HEALTHY", healthy.getString("health"), healthy.encodePrettily());
    assertNotNull(healthy.getValue("last_good_probe_age_s"), healthy.encodePrettily());

    String wedging = submit("this one wedges ComfyUI", null);
    AtomicReference<JsonObject> report = new AtomicReference<>();
    Await.until("503 naming the wedged GPU", WEDGE_WAIT, () -> {
      HttpResponse<Buffer> r = ready();
      report.set(r.bodyAsJsonObject());
      JsonObject gpus = checks(report.get()).get("worker/gpus");
      return r.statusCode() == 503 && gpus != null && "wedged".equals(gpu(gpus).getString("state"));
    });
    Map<String, JsonObject> checks = checks(report.get());
    assertEquals("DOWN", report.get().getString("status"));
    assertEquals(Set.of("worker/gpus"), down(checks), "the failing check is named: " + report.get().encodePrettily());
    JsonObject gpus = checks.get("worker/gpus");
    assertTrue(gpus.getJsonObject("data").getString("problem").contains("no GPU is healthy"), gpus.encodePrettily());
    JsonObject wedged = gpu(gpus);
    assertEquals("gpu0", wedged.getString("name"));
    assertEquals("WEDGED", wedged.getString("health"), wedged.encodePrettily());
    assertTrue(wedged.getString("health_detail").contains("wedged"), wedged.encodePrettily());
    double ageThen = wedged.getDouble("last_good_probe_age_s");
    Thread.sleep(1_000);
    JsonObject later = gpu(checks(ready().bodyAsJsonObject()).get("worker/gpus"));
    assertTrue(later.getDouble("last_good_probe_age_s") > ageThen,
        "the age is that of the last good probe, not of the last probe: " + ageThen + " then " + later.encodePrettily());

    await(comfy.restart()); // as if an operator (or the keeper) restarted ComfyUI
    Await.until("ready again", WAIT, () -> ready().statusCode() == 200);
    JsonObject recovered = gpu(checks(ready().bodyAsJsonObject()).get("worker/gpus"));
    assertEquals("HEALTHY", recovered.getString("health"), recovered.encodePrettily());
    assertTrue(recovered.getDouble("last_good_probe_age_s") < later.getDouble("last_good_probe_age_s"), recovered.encodePrettily());
    JsonObject end = awaitEnd(wedging, WAIT);
    assertEquals("succeeded", end.getString("state"), "the job caught by the wedge is run again once the GPU is back: "
        + end.encodePrettily());
  }

  private HttpResponse<Buffer> ready() {
    return await(http.get(config.health().port(), "127.0.0.1", "/health/ready").timeout(10_000).send());
  }

  /** Every leaf check of a Vert.x Health Checks report by its full name ("worker/gpus"). */
  private static Map<String, JsonObject> checks(JsonObject report) {
    Map<String, JsonObject> out = new LinkedHashMap<>();
    leaves(report, "", out);
    return out;
  }

  private static void leaves(JsonObject node, String name, Map<String, JsonObject> out) {
    JsonArray children = node.getJsonArray("checks");
    if (children == null) {
      out.put(name, node);
      return;
    }
    for (int i = 0; i < children.size(); i++) {
      JsonObject c = children.getJsonObject(i);
      leaves(c, name.isEmpty() ? c.getString("id") : name + "/" + c.getString("id"), out);
    }
  }

  private static Set<String> down(Map<String, JsonObject> checks) {
    return checks.entrySet().stream().filter(e -> !"UP".equals(e.getValue().getString("status"))).map(Map.Entry::getKey)
        .collect(Collectors.toSet());
  }

  /** The one GPU's detail in the worker/gpus check. */
  private static JsonObject gpu(JsonObject gpusCheck) {
    assertNotNull(gpusCheck, "a worker/gpus check");
    JsonArray gpus = gpusCheck.getJsonObject("data").getJsonArray("gpus");
    assertEquals(1, gpus.size(), gpusCheck.encodePrettily());
    assertFalse(gpus.getJsonObject(0).isEmpty());
    return gpus.getJsonObject(0);
  }
}
