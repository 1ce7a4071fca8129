package io.qwenedit.worker;

import static io.qwenedit.testing.Await.await;
import static io.qwenedit.worker.WorkerTestSupport.awaitState;
import static io.qwenedit.worker.WorkerTestSupport.enqueue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qwenedit.config.Config;
import io.qwenedit.emulator.ComfyEmulator;
import io.qwenedit.emulator.EmulatorOptions;
import io.qwenedit.queue.Job;
import io.qwenedit.queue.JobQueue;
import io.qwenedit.queue.JobState;
import io.qwenedit.redis.LocalRedisServer;
import io.qwenedit.redis.LuaScript;
import io.qwenedit.testing.Await;
import io.qwenedit.testing.ChildProcess;
import io.qwenedit.testing.RedisServerExtension;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Workers as child JVMs (what `java -jar qwenedit.jar worker` runs), for what only a real process can show. */
class WorkerProcessTest {
  @RegisterExtension
  static final RedisServerExtension REDIS = new RedisServerExtension(true);

  @TempDir
  Path dir;
  private WorkerTestSupport t;
  private final List<ChildProcess> children = new ArrayList<>();

  @BeforeEach
  void setUp() {
    t = new WorkerTestSupport();
  }

  @AfterEach
  void tearDown() throws Exception {
    for (ChildProcess c : children) {
      c.close();
    }
    t.close();
  }

  private ChildProcess worker(String id, List<String> comfyUrls, String... overrides) throws Exception {
    Map<String, String> env = new HashMap<>(WorkerTestSupport.fastSettings(REDIS.url(), comfyUrls));
    env.put("WORKER_ID", id);
    env.put("HEALTH_PORT", String.valueOf(LocalRedisServer.freePort()));
    env.put("WORKER_TEST_SWITCHES", "false");
    for (int i = 0; i + 1 < overrides.length; i += 2) {
      env.put(overrides[i], overrides[i + 1]);
    }
    ChildProcess c = ChildProcess.start(env, dir.resolve(id), "worker");
    children.add(c);
    c.awaitLog("worker " + id + " started", 30_000);
    return c;
  }

  private Config clientConfig(String url) {
    return WorkerTestSupport.config(WorkerTestSupport.fastSettings(REDIS.url(), List.of(url)));
  }

  @Test
  void killedWorkersJobIsFinishedByAnotherAndThePersonGetsOneResult() throws Exception {
    ComfyEmulator e = t.emulator(EmulatorOptions.fast().withStepTime(Duration.ofMillis(300)).withSteps(10));
    JobQueue q = t.queue(clientConfig(e.url()));
    // a stall limit longer than the prompt: the survivor follows the dead worker's prompt by polling alone
    ChildProcess a = worker("worker-a", List.of(e.url()), "COMFYUI_STALL_TIMEOUT", "20s");
    ChildProcess b = worker("worker-b", List.of(e.url()), "COMFYUI_STALL_TIMEOUT", "20s");
    String id = enqueue(q, "make the sky purple");
    Job running = awaitState(q, id, Duration.ofSeconds(20), JobState.RUNNING);
    Await.until("the prompt is executing", Duration.ofSeconds(10), () -> await(e.stats()).getInteger("prompts_started") >= 1);
    String victim = running.holder();
    ChildProcess doomed = "worker-a".equals(victim) ? a : b;
    long killedAt = System.currentTimeMillis();
    doomed.kill();

    long deadline = System.currentTimeMillis() + 30_000;
    long elsewhereAt = -1;
    while (System.currentTimeMillis() < deadline) {
      Job j = await(q.get(id));
      if (j.state() == JobState.RUNNING && !victim.equals(j.holder())) {
        elsewhereAt = System.currentTimeMillis();
        break;
      }
      if (j.state().terminal()) {
        break;
      }
      Thread.sleep(20);
    }
    Job done = awaitState(q, id, Duration.ofSeconds(40), JobState.SUCCEEDED, JobState.FAILED, JobState.DEAD);
    assertEquals(JobState.SUCCEEDED, done.state(), done.toJson().encodePrettily());
    assertNotEquals(victim, done.holder());
    assertEquals("lease_expired", done.attemptLog().getJsonObject(0).getString("outcome"));
    var outcomes = await(q.redis().send(Command.XRANGE, q.keys().outcomes(), "-", "+"));
    assertEquals(1, outcomes.size(), "exactly one outcome: the person gets one result");
    assertEquals(1, await(e.stats()).getInteger("prompts_accepted"),
        "the survivor picked up the dead worker's prompt instead of running the edit again");
    assertTrue(elsewhereAt > 0, "the job was seen running on the survivor");
    System.out.println("FIGURE kill -9 to running elsewhere: " + (elsewhereAt - killedAt) + " ms");
  }

  @Test
  void twoWorkersOnOneComfyNeverRunTwoOfOurPromptsAtOnce() throws Exception {
    ComfyEmulator e = t.emulator(EmulatorOptions.fast().withStepTime(Duration.ofMillis(30)).withSteps(4));
    JobQueue q = t.queue(clientConfig(e.url()));
    worker("worker-a", List.of(e.url()));
    worker("worker-b", List.of(e.url()));
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      ids.add(enqueue(q, "job " + i));
    }
    for (String id : ids) {
      assertEquals(JobState.SUCCEEDED, awaitState(q, id, Duration.ofSeconds(40), JobState.SUCCEEDED, JobState.FAILED).state());
    }
    JsonObject stats = await(e.stats());
    assertEquals(1, stats.getInteger("max_queue_depth"), stats.encodePrettily());
    assertEquals(6, stats.getInteger("prompts_succeeded"));
  }

  @Test
  void sigtermDuringAJobExitsZeroInTimeAndHandsTheJobBack() throws Exception {
    ComfyEmulator e = t.emulator(EmulatorOptions.fast().withStepTime(Duration.ofMillis(500)).withSteps(20));
    JobQueue q = t.queue(clientConfig(e.url()));
    ChildProcess a = worker("worker-a", List.of(e.url()), "WORKER_SHUTDOWN_GRACE", "1s");
    String id = enqueue(q, "too long to finish");
    awaitState(q, id, Duration.ofSeconds(20), JobState.RUNNING);
    Await.until("the prompt is executing", Duration.ofSeconds(10), () -> await(e.stats()).getInteger("prompts_started") >= 1);
    long t0 = System.currentTimeMillis();
    a.terminate();
    Integer code = a.waitFor(15_000);
    long took = System.currentTimeMillis() - t0;
    assertEquals(Integer.valueOf(0), code, a.log());
    assertTrue(took < 1_000 + 8_000, "exited " + took + " ms after SIGTERM");
    Job j = await(q.get(id));
    assertEquals(JobState.QUEUED, j.state(), j.toJson().encodePrettily());
    assertEquals(0, j.attempts(), "handing back on shutdown does not count an attempt");
    Await.until("ComfyUI was told to stop the prompt", Duration.ofSeconds(5),
        () -> await(e.stats()).getInteger("prompts_interrupted") >= 1);
    System.out.println("FIGURE SIGTERM to exit (grace 1 s): " + took + " ms");
  }

  @Test
  void sigtermLetsARunningJobFinishWithinTheGrace() throws Exception {
    ComfyEmulator e = t.emulator(EmulatorOptions.fast().withStepTime(Duration.ofMillis(300)).withSteps(6));
    JobQueue q = t.queue(clientConfig(e.url()));
    ChildProcess a = worker("worker-a", List.of(e.url()), "WORKER_SHUTDOWN_GRACE", "20s");
    String id = enqueue(q, "short enough");
    awaitState(q, id, Duration.ofSeconds(20), JobState.RUNNING);
    a.terminate();
    assertEquals(Integer.valueOf(0), a.waitFor(30_000), a.log());
    assertEquals(JobState.SUCCEEDED, await(q.get(id)).state());
  }

  @Test
  void workerRestartsTheComfyUiItOwnsWhenItCrashesOrWedges() throws Exception {
    int port = LocalRedisServer.freePort();
    String url = "http://127.0.0.1:" + port;
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String command = "\"" + java + "\" -Xmx128m -XX:TieredStopAtLevel=1 -cp \"" + System.getProperty("java.class.path")
        + "\" io.qwenedit.cli.Main emulator --port {port} --step-time 0.05 --steps 4";
    JobQueue q = t.queue(clientConfig(url));
    ChildProcess w = worker("keeper", List.of(url), "COMFYUI_COMMAND", command, "COMFYUI_RESTART_AFTER", "2s",
        "COMFYUI_WEDGE_TIMEOUT", "2s", "JOB_MAX_ATTEMPTS", "5", "LOG_FILE_MAX_SIZE", "1KB", "LOG_FILE_TOTAL_CAP", "3KB");
    assertEquals(JobState.SUCCEEDED, awaitState(q, enqueue(q, "first"), Duration.ofSeconds(60), JobState.SUCCEEDED, JobState.DEAD).state());
    long firstPid = emulatorPid(w);

    // it crashes
    ProcessHandle.of(firstPid).ifPresent(ProcessHandle::destroyForcibly);
    Job second = awaitState(q, enqueue(q, "after a crash"), Duration.ofSeconds(60), JobState.SUCCEEDED, JobState.DEAD);
    assertEquals(JobState.SUCCEEDED, second.state(), second.toJson().encodePrettily());
    long secondPid = emulatorPid(w);
    assertNotEquals(firstPid, secondPid, "a new ComfyUI process was started");

    // it wedges: answers HTTP, finishes nothing
    post(url + "/_emulator/faults", "{\"next\":[{\"fault\":\"wedge\"}]}");
    Job third = awaitState(q, enqueue(q, "while it wedges"), Duration.ofSeconds(90), JobState.SUCCEEDED, JobState.DEAD);
    assertEquals(JobState.SUCCEEDED, third.state(), third.toJson().encodePrettily());
    assertTrue(third.attempts() >= 2, "the wedged attempt was retried");
    long thirdPid = emulatorPid(w);
    assertNotEquals(secondPid, thirdPid, "the wedged ComfyUI was killed and started again");
    assertTrue(w.log().contains("restarting its ComfyUI"), w.log());

    // its output file (ComfyUI appends to it directly) is kept within LOG_FILE_MAX_SIZE by the keeper
    Path comfyLog = dir.resolve("keeper").resolve("logs").resolve("comfyui-gpu0.log");
    Await.until("the ComfyUI output file was rolled over", Duration.ofSeconds(20),
        () -> Files.exists(comfyLog.resolveSibling("comfyui-gpu0.log.1")));
    assertTrue(Files.size(comfyLog.resolveSibling("comfyui-gpu0.log.1")) >= 1024); // the emulator prints ≈ 400 bytes a start

    // it is stopped: its ComfyUI is stopped with it and not started again (the keeper saw that exit too)
    w.terminate();
    assertEquals(Integer.valueOf(0), w.waitFor(60_000), w.log());
    String shutdownLog = w.log().substring(w.log().indexOf("shutting down"));
    assertFalse(shutdownLog.contains("restarting its ComfyUI"), "no restart during shutdown:\n" + shutdownLog);
    Await.until("its ComfyUI has exited", Duration.ofSeconds(10), () -> !ProcessHandle.of(thirdPid).map(ProcessHandle::isAlive).orElse(false));
    Thread.sleep(2_000); // longer than the keeper's first restart back-off (1 s)
    try (Socket s = new Socket()) {
      assertThrows(IOException.class, () -> s.connect(new InetSocketAddress("127.0.0.1", port), 1_000),
          "no ComfyUI is left listening on its port after the worker stopped");
    }
  }

  private static long emulatorPid(ChildProcess worker) throws InterruptedException {
    long deadline = System.currentTimeMillis() + 20_000;
    while (System.currentTimeMillis() < deadline) {
      // the worker's only child process is the ComfyUI it owns (the JDK cannot always read a long command line)
      var found = ProcessHandle.of(worker.pid()).stream().flatMap(ProcessHandle::children).filter(ProcessHandle::isAlive).findFirst();
      if (found.isPresent()) {
        return found.get().pid();
      }
      Thread.sleep(100);
    }
    StringBuilder seen = new StringBuilder();
    ProcessHandle.of(worker.pid()).stream().flatMap(ProcessHandle::descendants).forEach(p -> seen.append(p.pid()).append(' ')
        .append(p.info().command().orElse("?")).append(' ').append(p.info().arguments().map(a -> String.join(" ", a)).orElse("?"))
        .append('\n'));
    throw new AssertionError("no live emulator process under the worker; its children: " + seen + "\n" + worker.log());
  }

  private static void post(String url, String body) throws Exception {
    HttpURLConnection c = (HttpURLConnection) URI.create(url).toURL().openConnection();
    c.setRequestMethod("POST");
    c.setDoOutput(true);
    c.setRequestProperty("Content-Type", "application/json");
    try (OutputStream out = c.getOutputStream()) {
      out.write(body.getBytes(StandardCharsets.UTF_8));
    }
    assertEquals(200, c.getResponseCode());
  }

  @Test
  void idleWorkerSendsOnlyHeartbeatsAndBlockingWaits() throws Exception {
    ComfyEmulator e = t.emulator(EmulatorOptions.fast());
    // production timings: a 5 s blocking wait, 5 s heartbeat, 10 s reaper, 30 s GPU lock
    worker("idler", List.of(e.url()), "WORKER_POLLING_INTERVAL", "5s", "WORKER_BLOCK_GRACE", "2s",
        "WORKER_HEARTBEAT_INTERVAL", "5s", "REAPER_INTERVAL", "10s", "WORKER_GPU_LOCK_TIMEOUT", "30s",
        "JOB_LEASE_SECONDS", "60");
    Thread.sleep(3_000); // past start-up
    Map<String, Integer> counts = monitor(30_000);
    String claimSha = LuaScript.load("claim").sha();
    int claims = counts.getOrDefault("evalsha " + claimSha, 0);
    assertEquals(0, claims, "no claim while nothing is queued: " + counts);
    int total = counts.values().stream().mapToInt(Integer::intValue).sum();
    int blocking = counts.getOrDefault("bzpopmin", 0);
    assertTrue(blocking >= 4 && blocking <= 8, "one blocking wait per 5 s: " + counts);
    // heartbeat PINGs, pub/sub keep-alive PINGs, the worker entry, lock renewals and the reaper: a handful per second at most
    assertTrue(total <= 150, total + " commands in 30 idle seconds: " + counts);
    System.out.println("FIGURE idle worker, 30 s: " + total + " Redis commands " + counts);
  }

  /** Counts commands (name, and script SHA for EVALSHA) Redis executes during {@code ms}, via MONITOR. */
  private static Map<String, Integer> monitor(long ms) throws Exception {
    Map<String, Integer> counts = new TreeMap<>();
    AtomicBoolean done = new AtomicBoolean();
    try (Socket s = new Socket("127.0.0.1", REDIS.port())) {
      s.getOutputStream().write("MONITOR\r\n".getBytes(StandardCharsets.US_ASCII));
      s.setSoTimeout(500);
      BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
      long end = System.currentTimeMillis() + ms;
      while (System.currentTimeMillis() < end) {
        String line;
        try {
          line = in.readLine();
        } catch (java.net.SocketTimeoutException timeout) {
          continue;
        }
        if (line == null) {
          break;
        }
        int q = line.indexOf("] \"");
        if (q < 0) {
          continue;
        }
        String[] parts = line.substring(q + 2).split("\" \"");
        String cmd = parts[0].replace("\"", "").toLowerCase();
        if ("evalsha".equals(cmd) && parts.length > 1) {
          cmd = cmd + " " + parts[1].replace("\"", "");
        }
        if (line.contains("lua]")) {
          continue; // commands run inside a script are counted as the script
        }
        counts.merge(cmd, 1, Integer::sum);
      }
    }
    done.set(true);
    return counts;
  }
}
