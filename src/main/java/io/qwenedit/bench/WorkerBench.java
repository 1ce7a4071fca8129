package io.qwenedit.bench;

import static io.qwenedit.bench.Bench.percentile;

import io.qwenedit.config.Config;
import io.qwenedit.config.Settings;
import io.qwenedit.emulator.ComfyEmulator;
import io.qwenedit.emulator.EmulatorOptions;
import io.qwenedit.queue.Job;
import io.qwenedit.queue.JobFollower;
import io.qwenedit.queue.JobQueue;
import io.qwenedit.queue.JobState;
import io.qwenedit.queue.NewJob;
import io.qwenedit.redis.LocalRedisServer;
import io.qwenedit.redis.RedisCommands;
import io.qwenedit.supervision.SupervisorVerticle;
import io.qwenedit.worker.WorkerRole;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.awt.Color;
import java.awt.GradientPaint;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;

/**
 * {@code scripts/bench-worker}: orchestration overhead per job. One worker (default settings) and one ComfyUI emulator
 * on loopback; 1-megapixel PNG edits are submitted one at a time and followed to the end. Overhead = end-to-end time
 * (enqueue call to the succeeded record) minus the time ComfyUI spent executing the prompt (its own
 * execution_start → execution_success timestamps in the prompt's history). Prints one JSON object.
 */
public final class WorkerBench {
  private WorkerBench() {}

  public static void main(String[] args) {
    Bench.exitWhenDone("bench-worker", () -> run(args));
  }

  private static void run(String[] args) throws Exception {
    Map<String, Integer> opts = Bench.intArgs("bench-worker", args, Map.of("--jobs", 100, "--step-ms", 20, "--warmup", 200));
    int jobs = opts.get("--jobs");
    int stepMs = opts.get("--step-ms");
    int warmup = opts.get("--warmup");
    LocalRedisServer redisServer = LocalRedisServer.start();
    Vertx vertx = Vertx.vertx();
    Vertx workerVertx = Vertx.vertx();
    try {
      ComfyEmulator emulator = ComfyEmulator.start(vertx, EmulatorOptions.defaults().withPort(0)
          .withStepTime(Duration.ofMillis(stepMs)).withSteps(4)).await(30, TimeUnit.SECONDS);
      Map<String, String> m = new HashMap<>();
      m.put("REDIS_URL", redisServer.url());
      m.put("COMFYUI_URL", emulator.url());
      m.put("WORKER_ID", "bench-worker");
      m.put("HEALTH_PORT", String.valueOf(LocalRedisServer.freePort()));
      Config cfg = Config.from(Settings.layered(List.of(m), List.of("bench")));
      WorkerRole.deploy(workerVertx, cfg, SupervisorVerticle.Options.defaults()).await(60, TimeUnit.SECONDS);
      RedisCommands redis = new RedisCommands(vertx, cfg.redis(), "bench");
      JobQueue queue = new JobQueue(redis, cfg.queue());
      WebClient http = WebClient.create(vertx);
      Buffer image = megapixelPng();
      JobFollower follower = new JobFollower(vertx, queue);

      double[] overhead = new double[jobs];
      double[] endToEnd = new double[jobs];
      double[] compute = new double[jobs];
      double[] pickup = new double[jobs];
      double[] client = new double[jobs];
      double[] before = new double[jobs];
      double[] upload = new double[jobs];
      double[] submit = new double[jobs];
      double[] fetch = new double[jobs];
      double[] notice = new double[jobs];
      // A worker runs for days: the figure is its steady state, once the JIT has compiled the per-job path. The
      // first jobs after start (cold code) are reported on their own.
      int coldJobs = Math.min(50, warmup);
      double[] cold = new double[coldJobs];
      for (int i = -warmup; i < jobs; i++) {
        long t0 = System.nanoTime();
        String id = queue.enqueue(NewJob.of("make the sky purple " + i, image)).await(10, TimeUnit.SECONDS).id();
        Job done = follower.follow(id, Duration.ofSeconds(60), j -> { }).await(70, TimeUnit.SECONDS);
        long t1 = System.nanoTime();
        long wall1 = System.currentTimeMillis();
        if (done.state() != JobState.SUCCEEDED) {
          throw new IllegalStateException("job " + id + " ended " + done.state() + ": " + done.error());
        }
        JsonObject history = http.getAbs(emulator.url() + "/history/" + done.promptId()).send()
            .await(10, TimeUnit.SECONDS).bodyAsJsonObject().getJsonObject(done.promptId());
        double ms = executionMs(history);
        if (i < -warmup + coldJobs) {
          cold[i + warmup] = (t1 - t0) / 1e6 - ms;
        }
        if (i >= 0) {
          JsonObject timings = done.resultInfo().getJsonObject("timings", new JsonObject());
          pickup[i] = done.startedAt() - done.createdAt();
          client[i] = timings.getLong("total_ms", 0L) - ms;
          before[i] = done.finishedAt() - done.startedAt() - timings.getLong("total_ms", 0L);
          upload[i] = timings.getLong("upload_ms", 0L);
          submit[i] = timings.getLong("submit_ms", 0L);
          fetch[i] = timings.getLong("fetch_ms", 0L);
          notice[i] = Math.max(0, wall1 - done.finishedAt());
          endToEnd[i] = (t1 - t0) / 1e6;
          compute[i] = ms;
          overhead[i] = endToEnd[i] - ms;
        }
      }
      for (double[] figures : List.of(overhead, cold, endToEnd, compute, pickup, client, before, upload, submit, fetch, notice)) {
        Arrays.sort(figures); // percentile() reads sorted arrays
      }
      System.out.println(new JsonObject()
          .put("overhead_p50_ms", round(percentile(overhead, 50)))
          .put("overhead_p99_ms", round(percentile(overhead, 99)))
          .put("first_jobs_overhead_p50_ms", coldJobs == 0 ? null : round(percentile(cold, 50)))
          .put("end_to_end_p50_ms", round(percentile(endToEnd, 50)))
          .put("comfy_execution_p50_ms", round(percentile(compute, 50)))
          .put("parts_p50_ms", new JsonObject().put("queue_to_claim", percentile(pickup, 50))
              .put("comfy_client_beyond_execution", percentile(client, 50)).put("worker_outside_client", percentile(before, 50))
              .put("upload", percentile(upload, 50)).put("submit", percentile(submit, 50)).put("fetch", percentile(fetch, 50))
              .put("finished_to_seen", percentile(notice, 50)))
          .put("parts_p99_ms", new JsonObject().put("queue_to_claim", percentile(pickup, 99))
              .put("comfy_client_beyond_execution", percentile(client, 99)).put("worker_outside_client", percentile(before, 99)))
          .put("jobs", jobs)
          .put("warmup_jobs", warmup)
          .put("image", "1024x1024 PNG (" + image.length() + " bytes)")
          .put("cpus", Runtime.getRuntime().availableProcessors())
          .encode());
      redis.close().await(5, TimeUnit.SECONDS);
    } finally {
      workerVertx.close().await(30, TimeUnit.SECONDS);
      vertx.close().await(30, TimeUnit.SECONDS);
      redisServer.close();
    }
  }

  /** ComfyUI's own execution time: from execution_start to execution_success in the history's status messages. */
  private static double executionMs(JsonObject history) {
    JsonArray messages = history.getJsonObject("status").getJsonArray("messages");
    Long start = null;
    Long end = null;
    for (int i = 0; i < messages.size(); i++) {
      JsonArray m = messages.getJsonArray(i);
      if ("execution_start".equals(m.getString(0))) {
        start = m.getJsonObject(1).getLong("timestamp");
      } else if ("execution_success".equals(m.getString(0))) {
        end = m.getJsonObject(1).getLong("timestamp");
      }
    }
    if (start == null || end == null) {
      throw new IllegalStateException("no execution timestamps in the history entry: " + messages.encode());
    }
    return end - start;
  }

  /** A 1024x1024 photo-like PNG (gradients: it compresses like a picture, not like a flat colour). */
  private static Buffer megapixelPng() throws Exception {
    BufferedImage img = new BufferedImage(1024, 1024, BufferedImage.TYPE_INT_RGB);
    var g = img.createGraphics();
    g.setPaint(new GradientPaint(0, 0, new Color(70, 130, 200), 0, 600, new Color(250, 200, 120)));
    g.fillRect(0, 0, 1024, 1024);
    g.setPaint(new GradientPaint(0, 600, new Color(40, 110, 40), 1024, 1024, new Color(90, 70, 30)));
    g.fillRect(0, 600, 1024, 424);
    java.util.Random r = new java.util.Random(7);
    for (int i = 0; i < 4000; i++) {
      g.setColor(new Color(r.nextInt(256), r.nextInt(256), r.nextInt(256), 60));
      g.fillOval(r.nextInt(1024), r.nextInt(1024), 3 + r.nextInt(20), 3 + r.nextInt(20));
    }
    g.dispose();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(img, "png", out);
    return Buffer.buffer(out.toByteArray());
  }

  private static double round(double v) {
    return Math.round(v * 100) / 100.0;
  }
}
