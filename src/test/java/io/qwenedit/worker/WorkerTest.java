package io.qwenedit.worker;

import static io.qwenedit.testing.Await.await;
import static io.qwenedit.worker.WorkerTestSupport.awaitState;
import static io.qwenedit.worker.WorkerTestSupport.enqueue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.search.Search;
import io.qwenedit.config.Config;
import io.qwenedit.emulator.ComfyEmulator;
import io.qwenedit.emulator.EmulatorImages;
import io.qwenedit.emulator.EmulatorOptions;
import io.qwenedit.metrics.Meters;
import io.qwenedit.queue.Job;
import io.qwenedit.queue.JobQueue;
import io.qwenedit.queue.JobState;
import io.qwenedit.queue.Registry;
import io.qwenedit.testing.Await;
import io.qwenedit.testing.Images;
import io.qwenedit.testing.RedisServerExtension;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The worker's verticles in-process, against a real Redis and real ComfyUI emulators. */
class WorkerTest {
  @RegisterExtension
  static final RedisServerExtension REDIS = new RedisServerExtension(true);

  private WorkerTestSupport t;

  @BeforeEach
  void setUp() {
    t = new WorkerTestSupport();
  }

  @AfterEach
  void tearDown() {
    t.close();
  }

  private static EmulatorOptions emu() {
    return EmulatorOptions.fast().withSteps(4);
  }

  @Test
  void aWorkerThatSeesComfyUisDirectoryRemovesTheOldFilesJobsLeftThere(@TempDir Path comfyDir) throws Exception {
    ComfyEmulator e = t.emulator(emu());
    Path oldInput = comfyDir.resolve("input/qwenedit/photo.jpg");
    Path oldResult = comfyDir.resolve("output/qwenedit/job_00001_.png");
    Path fresh = comfyDir.resolve("output/qwenedit/running_00001_.png");
    Path notOurs = comfyDir.resolve("output/ComfyUI_00001_.png");
    for (Path p : List.of(oldInput, oldResult, fresh, notOurs)) {
      Files.createDirectories(p.getParent());
      Files.write(p, new byte[64]);
    }
    long dayAgo = System.currentTimeMillis() - 86_400_000L;
    for (Path p : List.of(oldInput, oldResult, notOurs)) {
      Files.setLastModifiedTime(p, java.nio.file.attribute.FileTime.fromMillis(dayAgo));
    }
    Config cfg = WorkerTestSupport.config(WorkerTestSupport.fastSettings(REDIS.url(), List.of(e.url())),
        "COMFYUI_DIR", comfyDir.toString(), "COMFYUI_FILES_MAX_AGE", "30m");
    t.worker(cfg);
    Await.until("the old files are removed", Duration.ofSeconds(20), () -> !Files.exists(oldInput) && !Files.exists(oldResult));
    assertTrue(Files.exists(fresh), "a file younger than COMFYUI_FILES_MAX_AGE stays");
    assertTrue(Files.exists(notOurs), "ComfyUI's other files are not ours to remove");
  }

  @Test
  void aComfyUiDirectoryThatIsNotThereStopsTheWorkerWithAClearMessage(@TempDir Path dir) {
    ComfyEmulator e = t.emulator(emu());
    Config cfg = WorkerTestSupport.config(WorkerTestSupport.fastSettings(REDIS.url(), List.of(e.url())),
        "COMFYUI_DIR", dir.resolve("no-such-comfy").toString());
    Throwable err = org.junit.jupiter.api.Assertions.assertThrows(Throwable.class, () -> t.worker(cfg));
    String message = err instanceof io.qwenedit.config.ConfigException ? err.getMessage() : String.valueOf(err.getCause());
    assertTrue(message.contains("COMFYUI_DIR") && message.contains("no-such-comfy") && message.contains("not a directory"),
        message);
  }

  @Test
  void jobRunsEndToEndAndTheResultIsDerivedFromItsInput() throws Exception {
    ComfyEmulator e = t.emulator(emu());
    Config cfg = WorkerTestSupport.config(WorkerTestSupport.fastSettings(REDIS.url(), List.of(e.url())));
    JobQueue q = t.queue(cfg);
    t.worker(cfg);
    Buffer input = Images.png(160, 120);
    String id = enqueue(q, "make the sky purple", input);
    Job done = awaitState(q, id, Duration.ofSeconds(20), JobState.SUCCEEDED, JobState.FAILED, JobState.DEAD);
    assertEquals(JobState.SUCCEEDED, done.state(), done.toJson().encodePrettily());
    assertEquals(1, done.attempts());
    assertEquals("gpu0", done.gpu());
    assertNotNull(done.promptId());
    Buffer result = await(q.image(done.resultRef()));
    assertTrue(EmulatorImages.matches(input, result, "make the sky purple"), "the result was made from this job's input and prompt");
    assertNotNull(done.resultInfo().getJsonObject("timings"));
    JsonObject stats = await(e.stats());
    assertEquals(1, stats.getInteger("prompts_succeeded"));
  }

  @Test
  void hungComfyIsInterruptedAndTheJobRetriedUntilItSucceeds() throws Exception {
    ComfyEmulator e = t.emulator(emu().withFaults(new JsonObject().put("next", new JsonArray().add(new JsonObject().put("fault", "hang")))));
    Config cfg = WorkerTestSupport.config(WorkerTestSupport.fastSettings(REDIS.url(), List.of(e.url())));
    JobQueue q = t.queue(cfg);
    t.worker(cfg);
    String id = enqueue(q, "x");
    Job done = awaitState(q, id, Duration.ofSeconds(30), JobState.SUCCEEDED, JobState.FAILED, JobState.DEAD);
    assertEquals(JobState.SUCCEEDED, done.state(), done.toJson().encodePrettily());
    assertEquals(2, done.attempts());
    JsonObject first = done.attemptLog().getJsonObject(0);
    assertEquals("comfy_stalled", first.getString("code"), first.encode());
    JsonObject stats = await(e.stats());
    assertTrue(stats.getInteger("interrupts_targeted") >= 1, stats.encodePrettily());
    assertEquals(1, stats.getInteger("prompts_interrupted"), stats.encodePrettily());
  }

  @Test
  void comfyThatHangsEveryTimeSendsTheJobToTheDeadLetterSetWithAReadableReason() throws Exception {
    ComfyEmulator e = t.emulator(emu().withFaults(new JsonObject().put("always", new JsonObject().put("fault", "hang"))));
    Config cfg = WorkerTestSupport.config(WorkerTestSupport.fastSettings(REDIS.url(), List.of(e.url())), "JOB_MAX_ATTEMPTS", "2");
    JobQueue q = t.queue(cfg);
    t.worker(cfg);
    String id = enqueue(q, "x");
    Job dead = awaitState(q, id, Duration.ofSeconds(40), JobState.DEAD, JobState.SUCCEEDED, JobState.FAILED);
    assertEquals(JobState.DEAD, dead.state());
    assertEquals("comfy_stalled", dead.error().code());
    assertTrue(dead.error().message().startsWith("Gave up after 2 attempts"), dead.error().message());
    assertEquals(List.of(id), await(q.dead(10)).stream().map(Job::id).toList());
  }

  @Test
  void wedgedGpuGetsNoMoreWorkAndTheOtherGpuServesEveryJob() throws Exception {
    JsonObject wedgeFirst = new JsonObject().put("next", new JsonArray().add(new JsonObject().put("fault", "wedge")));
    ComfyEmulator wedged = t.emulator(emu().withFaults(wedgeFirst));
    ComfyEmulator healthy = t.emulator(emu());
    Config cfg = WorkerTestSupport.config(WorkerTestSupport.fastSettings(REDIS.url(), List.of(wedged.url(), healthy.url())),
        "JOB_MAX_ATTEMPTS", "3");
    JobQueue q = t.queue(cfg);
    t.worker(cfg);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      ids.add(enqueue(q, "job " + i));
    }
    for (String id : ids) {
      Job j = awaitState(q, id, Duration.ofSeconds(60), JobState.SUCCEEDED, JobState.FAILED, JobState.DEAD);
      assertEquals(JobState.SUCCEEDED, j.state(), j.toJson().encodePrettily());
      assertEquals("gpu1", j.gpu(), "every job ends on the healthy GPU");
    }
    assertEquals(1, await(wedged.stats()).getInteger("prompts_started"), "the wedged GPU got one prompt and no more");
    JsonObject gpus = workerEntry(q, cfg).getJsonArray("gpus").getJsonObject(0);
    assertEquals("wedged", gpus.getString("state"), gpus.encodePrettily());
  }

  private static JsonObject workerEntry(JobQueue q, Config cfg) throws InterruptedException {
    Registry reg = Registry.workers(q.redis(), q.keys());
    long deadline = System.currentTimeMillis() + 10_000;
    while (System.currentTimeMillis() < deadline) {
      JsonArray all = await(reg.list());
      for (int i = 0; i < all.size(); i++) {
        if (cfg.worker().workerId().equals(all.getJsonObject(i).getString("id"))) {
          return all.getJsonObject(i);
        }
      }
      Thread.sleep(100);
    }
    throw new AssertionError("worker " + cfg.worker().workerId() + " never announced itself");
  }

  @Test
  void comfyGoingAwayTakesItsGpuOutOfServiceAndNoJobIsLost() throws Exception {
    EmulatorOptions slow = emu().withStepTime(Duration.ofMillis(400)).withSteps(10);
    ComfyEmulator e = t.emulator(slow);
    int port = e.port();
    Config cfg = WorkerTestSupport.config(WorkerTestSupport.fastSettings(REDIS.url(), List.of(e.url())));
    JobQueue q = t.queue(cfg);
    t.worker(cfg);
    String running = enqueue(q, "running when it went away");
    awaitState(q, running, Duration.ofSeconds(15), JobState.RUNNING);
    Await.until("the prompt is executing", Duration.ofSeconds(10), () -> await(e.stats()).getInteger("prompts_started") >= 1);
    await(e.close());
    Await.until("the worker reports its GPU unreachable", Duration.ofSeconds(15), () -> {
      JsonArray gpus = entryGpus(q, cfg);
      return gpus != null && !gpus.isEmpty() && "unreachable".equals(gpus.getJsonObject(0).getString("state"));
    });
    String queuedMeanwhile = enqueue(q, "queued while it was away");
    Thread.sleep(1_500);
    assertEquals(JobState.QUEUED, await(q.get(queuedMeanwhile)).state(), "nothing is claimed for a GPU that is down");
    ComfyEmulator back = t.emulator(emu().withPort(port));
    for (String id : List.of(running, queuedMeanwhile)) {
      Job j = awaitState(q, id, Duration.ofSeconds(40), JobState.SUCCEEDED, JobState.FAILED, JobState.DEAD);
      assertEquals(JobState.SUCCEEDED, j.state(), j.toJson().encodePrettily());
    }
    assertTrue(await(q.get(running)).attempts() >= 2, "the interrupted attempt was retried");
    assertEquals(2, await(back.stats()).getInteger("prompts_succeeded"));
  }

  private static JsonArray entryGpus(JobQueue q, Config cfg) {
    JsonArray all = await(Registry.workers(q.redis(), q.keys()).list());
    for (int i = 0; i < all.size(); i++) {
      if (cfg.worker().workerId().equals(all.getJsonObject(i).getString("id"))) {
        return all.getJsonObject(i).getJsonArray("gpus");
      }
    }
    return null;
  }

  @Test
  void stalledPollerIsRedeployedAndJobsContinue() throws Exception {
    ComfyEmulator e = t.emulator(emu());
    Config cfg = WorkerTestSupport.config(WorkerTestSupport.fastSettings(REDIS.url(), List.of(e.url())));
    JobQueue q = t.queue(cfg);
    WorkerRole role = t.worker(cfg);
    awaitState(q, enqueue(q, "before"), Duration.ofSeconds(20), JobState.SUCCEEDED);
    long switchedAt = System.currentTimeMillis();
    await(role.vertx().eventBus().request(Addresses.testSwitch("poller"), new JsonObject().put("mode", "stall"),
        new DeliveryOptions().setLocalOnly(true)));
    Await.until("the poller is redeployed", Duration.ofSeconds(30), () -> redeploys(role, "poller") >= 1);
    long took = System.currentTimeMillis() - switchedAt;
    Job after = awaitState(q, enqueue(q, "after"), Duration.ofSeconds(20), JobState.SUCCEEDED, JobState.FAILED);
    assertEquals(JobState.SUCCEEDED, after.state());
    System.out.println("FIGURE stalled poller redeployed after " + took + " ms");
  }

  @Test
  void dispatcherThatStopsAnsweringAndNeverStopsIsReplacedAndItsJobIsNotLost() throws Exception {
    ComfyEmulator e = t.emulator(emu().withStepTime(Duration.ofMillis(200)).withSteps(10));
    Config cfg = WorkerTestSupport.config(WorkerTestSupport.fastSettings(REDIS.url(), List.of(e.url())));
    JobQueue q = t.queue(cfg);
    WorkerRole role = t.worker(cfg);
    String id = enqueue(q, "caught in the middle");
    awaitState(q, id, Duration.ofSeconds(15), JobState.RUNNING);
    // as if its event loop were stuck: no answer to pings, and its stop() never completes
    await(role.vertx().eventBus().request(Addresses.testSwitch("dispatch"), new JsonObject().put("mode", "silent+hang-stop"),
        new DeliveryOptions().setLocalOnly(true)));
    Await.until("the dispatcher is redeployed", Duration.ofSeconds(30), () -> redeploys(role, "dispatch") >= 1);
    Job j = awaitState(q, id, Duration.ofSeconds(40), JobState.SUCCEEDED, JobState.FAILED, JobState.DEAD);
    assertEquals(JobState.SUCCEEDED, j.state(), j.toJson().encodePrettily());
    String next = enqueue(q, "after the redeploy");
    assertEquals(JobState.SUCCEEDED, awaitState(q, next, Duration.ofSeconds(20), JobState.SUCCEEDED, JobState.FAILED).state());
  }

  private static double redeploys(WorkerRole role, String verticle) {
    return Search.in(Meters.registry(role.vertx())).name("qwenedit.verticle.redeploys").tag("verticle", verticle)
        .counters().stream().mapToDouble(c -> c.count()).sum();
  }

  @Test
  void redisRestartUnderLoadLosesNoJobAndProcessingResumesByItself() throws Exception {
    ComfyEmulator e = t.emulator(emu().withStepTime(Duration.ofMillis(50)));
    Config cfg = WorkerTestSupport.config(WorkerTestSupport.fastSettings(REDIS.url(), List.of(e.url())));
    JobQueue q = t.queue(cfg);
    t.worker(cfg);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      ids.add(enqueue(q, "load " + i));
    }
    awaitState(q, ids.get(1), Duration.ofSeconds(20), JobState.SUCCEEDED);
    REDIS.server().kill();
    Thread.sleep(1_500);
    REDIS.server().restart();
    long backAt = System.currentTimeMillis();
    long firstClaimAfter = Long.MAX_VALUE;
    for (String id : ids) {
      Job j = awaitState(q, id, Duration.ofSeconds(60), JobState.SUCCEEDED, JobState.FAILED, JobState.DEAD);
      assertEquals(JobState.SUCCEEDED, j.state(), j.toJson().encodePrettily());
      if (j.startedAt() != null && j.startedAt() >= backAt) {
        firstClaimAfter = Math.min(firstClaimAfter, j.startedAt() - backAt);
      }
    }
    System.out.println("FIGURE first job claimed " + firstClaimAfter + " ms after Redis came back");
  }

  @Test
  void workerAnnouncesItselfWithItsGpusAndServesReadiness() throws Exception {
    ComfyEmulator e = t.emulator(emu());
    Map<String, String> s = WorkerTestSupport.fastSettings(REDIS.url(), List.of(e.url()));
    Config cfg = WorkerTestSupport.config(s, "WORKER_ID", "announcer");
    JobQueue q = t.queue(cfg);
    WorkerRole role = t.worker(cfg);
    JsonObject entry = workerEntry(q, cfg);
    assertEquals("announcer", entry.getString("id"));
    JsonArray gpus = entry.getJsonArray("gpus");
    assertEquals(1, gpus.size());
    Await.until("gpu0 healthy and free", Duration.ofSeconds(10), () -> "free".equals(entryGpus(q, cfg).getJsonObject(0).getString("state")));
    Await.until("ready (every verticle answered a ping since it was deployed)", Duration.ofSeconds(10),
        () -> "UP".equals(await(io.qwenedit.health.Health.of(role.vertx()).readiness().checkStatus()).toJson().getString("status")));
    JsonObject ready = await(io.qwenedit.health.Health.of(role.vertx()).readiness().checkStatus()).toJson();
    assertFalse(ready.encode().contains("\"DOWN\""), ready.encodePrettily());
  }
}
