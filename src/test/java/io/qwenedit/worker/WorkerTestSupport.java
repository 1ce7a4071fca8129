package io.qwenedit.worker;

import static io.qwenedit.testing.Await.await;

import io.qwenedit.config.Config;
import io.qwenedit.emulator.ComfyEmulator;
import io.qwenedit.emulator.EmulatorOptions;
import io.qwenedit.queue.Job;
import io.qwenedit.queue.JobQueue;
import io.qwenedit.queue.JobState;
import io.qwenedit.queue.NewJob;
import io.qwenedit.redis.RedisCommands;
import io.qwenedit.supervision.SupervisorVerticle;
import io.qwenedit.testing.Images;
import io.qwenedit.testing.TestConfigs;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Short timings and helpers shared by the worker tests (real Redis, real ComfyUI emulators, real worker verticles); the
 * static settings are public for tests elsewhere that run a real worker (the API's).
 */
public final class WorkerTestSupport implements AutoCloseable {
  final Vertx vertx = Vertx.vertx();
  private final List<Runnable> closers = new ArrayList<>();

  /** Settings that make every clock of the worker fast enough for tests. */
  public static Map<String, String> fastSettings(String redisUrl, List<String> comfyUrls) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("REDIS_URL", redisUrl);
    m.put("COMFYUI_URLS", String.join(",", comfyUrls));
    m.put("WORKER_POLLING_INTERVAL", "1s");
    m.put("WORKER_BLOCK_GRACE", "500ms");
    m.put("JOB_LEASE_SECONDS", "3");
    m.put("JOB_RETRY_BASE", "200ms");
    m.put("JOB_RETRY_MAX", "500ms");
    m.put("REAPER_INTERVAL", "500ms");
    m.put("WORKER_GPU_LOCK_TIMEOUT", "3s");
    m.put("WORKER_HEARTBEAT_INTERVAL", "500ms");
    m.put("COMFYUI_STALL_TIMEOUT", "2s");
    m.put("COMFYUI_POLL_INTERVAL", "200ms");
    m.put("COMFYUI_TIMEOUT", "30s");
    m.put("COMFYUI_WEDGE_TIMEOUT", "3s");
    m.put("COMFYUI_REQUEST_TIMEOUT", "2s");
    m.put("REDIS_COMMAND_TIMEOUT", "2s");
    m.put("REDIS_CONNECT_TIMEOUT", "1s");
    m.put("WORKER_SHUTDOWN_GRACE", "2s");
    m.put("WORKER_TEST_SWITCHES", "true");
    return m;
  }

  public static Config config(Map<String, String> settings, String... overrides) {
    List<String> all = new ArrayList<>();
    settings.forEach((k, v) -> {
      all.add(k);
      all.add(v);
    });
    all.addAll(List.of(overrides));
    return TestConfigs.config(settings.get("REDIS_URL"), all.toArray(new String[0]));
  }

  public static SupervisorVerticle.Options fastSupervision() {
    return new SupervisorVerticle.Options(Duration.ofMillis(250), Duration.ofMillis(500), 3, Duration.ofSeconds(2),
        Duration.ofSeconds(2), 5, Duration.ofMinutes(5), Duration.ofSeconds(30));
  }

  ComfyEmulator emulator(EmulatorOptions options) {
    ComfyEmulator e = await(ComfyEmulator.start(vertx, options));
    closers.add(() -> await(e.close()));
    return e;
  }

  JobQueue queue(Config cfg) {
    RedisCommands redis = new RedisCommands(vertx, cfg.redis(), "test-client");
    closers.add(() -> await(redis.close()));
    return new JobQueue(redis, cfg.queue());
  }

  private WorkerRole lastWorker;

  WorkerRole lastWorker() {
    return lastWorker;
  }

  WorkerRole worker(Config cfg) {
    Vertx own = Vertx.vertx();
    WorkerRole role = io.qwenedit.testing.Await.await(WorkerRole.deploy(own, cfg, fastSupervision()), Duration.ofSeconds(30));
    lastWorker = role;
    closers.add(() -> {
      // close the Vert.x from this thread: a continuation on its own (closing) event loop would never run
      io.qwenedit.testing.Await.await(role.shutdown(Duration.ofSeconds(1)), Duration.ofSeconds(60));
      io.qwenedit.testing.Await.await(own.close(), Duration.ofSeconds(30));
    });
    return role;
  }

  static String enqueue(JobQueue q, String prompt, Buffer image) {
    return await(q.enqueue(NewJob.of(prompt, image))).id();
  }

  static String enqueue(JobQueue q, String prompt) {
    return enqueue(q, prompt, Images.png(96, 64));
  }

  /** Polls the job record (test side) until it is in one of the states. */
  static Job awaitState(JobQueue q, String id, Duration limit, JobState... states) throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    Job last = null;
    while (System.nanoTime() < deadline) {
      last = await(q.get(id));
      if (last != null) {
        for (JobState s : states) {
          if (last.state() == s) {
            return last;
          }
        }
      }
      Thread.sleep(50);
    }
    throw new AssertionError("job " + id + " not in " + List.of(states) + " within " + limit + "; last seen: "
        + (last == null ? "nothing" : last.toJson().encodePrettily()));
  }

  @Override
  public void close() {
    for (int i = closers.size() - 1; i >= 0; i--) {
      try {
        closers.get(i).run();
      } catch (RuntimeException | AssertionError e) {
        // keep closing the rest
      }
    }
    await(vertx.close());
  }
}
