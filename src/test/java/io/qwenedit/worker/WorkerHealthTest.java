package io.qwenedit.worker;

import static io.qwenedit.testing.Await.await;
import static io.qwenedit.worker.WorkerTestSupport.enqueue;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qwenedit.config.Config;
import io.qwenedit.emulator.ComfyEmulator;
import io.qwenedit.emulator.EmulatorOptions;
import io.qwenedit.health.HealthServer;
import io.qwenedit.queue.JobQueue;
import io.qwenedit.redis.LocalRedisServer;
import io.qwenedit.testing.RedisServerExtension;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.HttpURLConnection;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** /health/ready of a worker turns 503 when its only GPU wedges or a verticle stalls, and 200 again by itself. */
class WorkerHealthTest {
  @RegisterExtension
  static final RedisServerExtension REDIS = new RedisServerExtension();

  private WorkerTestSupport t;

  @BeforeEach
  void setUp() {
    t = new WorkerTestSupport();
  }

  @AfterEach
  void tearDown() {
    t.close();
  }

  private int startWorkerWithHealth(ComfyEmulator e) {
    int port = LocalRedisServer.freePort();
    Config cfg = WorkerTestSupport.config(WorkerTestSupport.fastSettings(REDIS.url(), List.of(e.url())),
        "HEALTH_PORT", String.valueOf(port), "HEALTH_HOST", "127.0.0.1");
    WorkerRole role = t.worker(cfg);
    await(HealthServer.ensure(role.vertx(), cfg));
    return port;
  }

  private static int ready(int port) {
    try {
      HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + port + "/health/ready").toURL().openConnection();
      c.setConnectTimeout(1000);
      c.setReadTimeout(5000);
      return c.getResponseCode();
    } catch (Exception e) {
      return -1;
    }
  }

  /** Polls readiness until it has been {@code first}, then {@code then}; returns ms until each was first seen. */
  private static long[] seeSequence(int port, int first, int then, Duration limit) throws InterruptedException {
    long t0 = System.currentTimeMillis();
    long deadline = t0 + limit.toMillis();
    long firstAt = -1;
    while (System.currentTimeMillis() < deadline) {
      int code = ready(port);
      if (firstAt < 0 && code == first) {
        firstAt = System.currentTimeMillis() - t0;
      } else if (firstAt >= 0 && code == then) {
        return new long[] {firstAt, System.currentTimeMillis() - t0};
      }
      Thread.sleep(50);
    }
    throw new AssertionError("readiness did not go " + first + " then " + then + " within " + limit + " (first seen: " + firstAt + ")");
  }

  @Test
  void readinessFailsWhileTheOnlyGpuIsWedgedAndRecoversWithoutARestart() throws Exception {
    ComfyEmulator e = t.emulator(EmulatorOptions.fast().withSteps(4)
        .withFaults(new JsonObject().put("next", new JsonArray().add(new JsonObject().put("fault", "wedge")))));
    int port = startWorkerWithHealth(e);
    long deadline = System.currentTimeMillis() + 15_000;
    while (ready(port) != 200 && System.currentTimeMillis() < deadline) {
      Thread.sleep(50);
    }
    JobQueue q = t.queue(WorkerTestSupport.config(WorkerTestSupport.fastSettings(REDIS.url(), List.of(e.url()))));
    enqueue(q, "this one wedges ComfyUI");
    long wedgedAt = System.currentTimeMillis();
    long[] down = seeSequence(port, 503, 503, Duration.ofSeconds(20));
    await(e.restart()); // as if an operator (or the keeper) restarted ComfyUI
    long[] back = seeSequence(port, 200, 200, Duration.ofSeconds(20));
    System.out.println("FIGURE wedged GPU: ready 503 after " + down[0] + " ms, 200 again " + back[0] + " ms after the restart");
    assertTrue(System.currentTimeMillis() - wedgedAt < 60_000);
  }

  @Test
  void readinessFailsWhileAVerticleIsStalledAndRecoversAfterItsRedeploy() throws Exception {
    ComfyEmulator e = t.emulator(EmulatorOptions.fast().withSteps(4));
    int port = startWorkerWithHealth(e);
    long deadline = System.currentTimeMillis() + 15_000;
    while (ready(port) != 200 && System.currentTimeMillis() < deadline) {
      Thread.sleep(50);
    }
    assertTrue(ready(port) == 200, "ready at start");
    var vertxOfWorker = t.lastWorker().vertx();
    await(vertxOfWorker.eventBus().request(Addresses.testSwitch("heartbeat"), new JsonObject().put("mode", "silent+hang-stop"),
        new DeliveryOptions().setLocalOnly(true)));
    long[] seen = seeSequence(port, 503, 200, Duration.ofSeconds(30));
    System.out.println("FIGURE stalled verticle: ready 503 after " + seen[0] + " ms, 200 again after " + seen[1] + " ms");
  }
}
