package io.qwenedit.api;

import static io.qwenedit.testing.Await.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qwenedit.metrics.JobMetrics;
import io.qwenedit.queue.Job;
import io.qwenedit.queue.QueueResults.Claimed;
import io.qwenedit.testing.Await;
import io.qwenedit.testing.Images;
import io.qwenedit.testing.RedisServerExtension;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** /metrics after real traffic: our counters and histograms, the deployment-wide gauges, and Vert.x's own meters. */
class MetricsEndpointTest {
  @RegisterExtension
  static final RedisServerExtension REDIS = new RedisServerExtension();
  private static final Duration WAIT = Duration.ofSeconds(10);

  private ApiHarness h;

  @AfterEach
  void stop() {
    if (h != null) {
      h.close();
    }
  }

  private String scrape() {
    HttpResponse<Buffer> r = await(h.http.get("/metrics").send());
    assertEquals(200, r.statusCode());
    assertTrue(r.getHeader("Content-Type").startsWith("text/plain"), r.getHeader("Content-Type"));
    return r.bodyAsString();
  }

  private String submit(String prompt) {
    HttpResponse<Buffer> r = await(h.http.post("/v1/jobs").sendMultipartForm(HttpApiTest.form(prompt, Images.png(16, 16))));
    assertEquals(202, r.statusCode(), r.bodyAsString());
    return r.bodyAsJsonObject().getString("id");
  }

  @Test
  void afterAFewJobsTheCountersAndHistogramsHoldTheRightCounts() {
    h = ApiHarness.start(REDIS.url());
    for (int i = 0; i < 3; i++) {
      submit("job " + i);
    }
    assertEquals(400, await(h.http.post("/v1/jobs").sendMultipartForm(HttpApiTest.form(null, Images.png(8, 8)))).statusCode());

    // The test worker records what the real worker records, through the API the worker is given.
    JobMetrics metrics = JobMetrics.of(h.vertx);
    TestWorker worker = h.worker();
    for (int i = 0; i < 3; i++) {
      Claimed c = worker.claim();
      metrics.attemptStarted();
      metrics.pickup(Duration.ofMillis(3));
      boolean ok = i < 2;
      if (ok) {
        worker.succeed(c);
      } else {
        worker.failPermanently(c, "invalid_workflow", "no LoadImage node");
      }
      Job end = await(h.queue.get(c.id()));
      metrics.jobFinished(end, end.state().wire(), end.finishedAt());
      metrics.gpuBusy("gpu0", Duration.ofMillis(end.finishedAt() - end.startedAt()));
    }
    metrics.gpuState("gpu0", "healthy");

    String text = scrape();
    assertEquals(3.0, Prometheus.value(text, "qwenedit_api_submissions_total", "result=\"accepted\""), text);
    assertEquals(1.0, Prometheus.value(text, "qwenedit_api_refusals_total", "code=\"prompt_missing\""));
    assertEquals(2.0, Prometheus.value(text, "qwenedit_jobs_finished_total", "outcome=\"succeeded\""));
    assertEquals(1.0, Prometheus.value(text, "qwenedit_jobs_finished_total", "outcome=\"failed\""));
    assertEquals(2.0, Prometheus.value(text, "qwenedit_job_execution_seconds_count", "outcome=\"succeeded\""));
    assertEquals(1.0, Prometheus.value(text, "qwenedit_job_end_to_end_seconds_count", "outcome=\"failed\""));
    assertEquals(3.0, Prometheus.value(text, "qwenedit_job_queue_wait_seconds_count"));
    assertEquals(3.0, Prometheus.value(text, "qwenedit_job_pickup_seconds_count"));
    assertEquals(3.0, Prometheus.value(text, "qwenedit_job_pickup_seconds_bucket", "le=\"0.005\""), "3 ms pickups fall in the 5 ms bucket");
    assertEquals(0.0, Prometheus.value(text, "qwenedit_job_pickup_seconds_bucket", "le=\"0.0025\""));
    assertEquals(3.0, Prometheus.value(text, "qwenedit_job_attempts_started_total"));
    assertEquals(3.0, Prometheus.value(text, "qwenedit_job_attempts_count"));
    assertEquals(1.0, Prometheus.value(text, "qwenedit_gpu_state", "gpu=\"gpu0\"", "state=\"healthy\""));
    assertEquals(0.0, Prometheus.value(text, "qwenedit_gpu_state", "gpu=\"gpu0\"", "state=\"wedged\""));
    assertTrue(Prometheus.value(text, "qwenedit_gpu_busy_seconds_total", "gpu=\"gpu0\"") >= 0.0);

    // Deployment-wide, from Redis (refreshed every 200 ms here).
    Await.until("the queue's own totals", WAIT, () -> {
      String t = scrape();
      return Prometheus.value(t, "qwenedit_queue_jobs_total", "event=\"enqueued\"") == 3.0
          && Prometheus.value(t, "qwenedit_queue_jobs_total", "event=\"succeeded\"") == 2.0
          && Prometheus.value(t, "qwenedit_queue_jobs_total", "event=\"failed\"") == 1.0
          && Prometheus.value(t, "qwenedit_queue_depth") == 0.0;
    });

    // Every metric of ours that is exported is documented, and the dashboard asks only for documented ones.
    String docs = read("docs/metrics.md");
    for (String family : families(text)) {
      assertTrue(docs.contains("`" + family + "`"), family + " is exported but not listed in docs/metrics.md");
    }
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("qwenedit_[a-z_]+").matcher(read("conf/grafana/qwenedit-dashboard.json"));
    while (m.find()) {
      String name = m.group().replaceAll("_(bucket|count|sum)$", "");
      assertTrue(docs.contains("`" + name + "`"), "the dashboard asks for " + m.group() + ", which docs/metrics.md does not list");
    }

    // Vert.x's own meters are there too.
    assertTrue(text.contains("vertx_http_server_requests_total{"), "Vert.x HTTP server metrics");
    assertTrue(text.contains("vertx_http_server_response_time_seconds"), "Vert.x HTTP server latency");
    assertTrue(text.contains("jvm_memory_used_bytes"), "JVM metrics");
  }

  /** Metric families named in a scrape (from its TYPE lines), without the _total/_max/_bucket... of one family. */
  private static java.util.Set<String> families(String text) {
    java.util.Set<String> out = new java.util.TreeSet<>();
    for (String line : text.split("\n")) {
      if (line.startsWith("# TYPE qwenedit_")) {
        String name = line.split(" ")[2];
        if (!name.endsWith("_max")) {
          out.add(name);
        }
      }
    }
    return out;
  }

  private static String read(String file) {
    try {
      return java.nio.file.Files.readString(java.nio.file.Path.of(file));
    } catch (java.io.IOException e) {
      throw new AssertionError("cannot read " + file, e);
    }
  }

  @Test
  void deploymentWideGaugesFollowTheQueueAndShowNoValueWhileRedisIsAway() {
    h = ApiHarness.start(REDIS.url());
    submit("a");
    String b = submit("b");
    Await.until("depth 2", WAIT, () -> Prometheus.value(scrape(), "qwenedit_queue_depth") == 2.0);
    Claimed running = h.worker().claim();
    await(h.queue.deadLetter(running.id(), running.fence(), "poison_record", "broken on purpose"));
    Await.until("depth 1, one dead letter", WAIT, () -> {
      String t = scrape();
      return Prometheus.value(t, "qwenedit_queue_depth") == 1.0 && Prometheus.value(t, "qwenedit_dead_letters") == 1.0
          && Prometheus.value(t, "qwenedit_queue_oldest_age_seconds") >= 0.0;
    });
    h.worker().claim();
    Await.until("one running", WAIT, () -> Prometheus.value(scrape(), "qwenedit_jobs_running") == 1.0);
    assertEquals(b, await(h.queue.get(b)).id());

    REDIS.server().kill();
    Await.until("gauges show no value", WAIT, () -> {
      String t = scrape();
      return Double.isNaN(Prometheus.value(t, "qwenedit_queue_depth")) && t.contains("qwenedit_queue_depth NaN")
          && Prometheus.value(t, "qwenedit_queue_snapshot_failures_total") >= 1.0;
    });
    REDIS.server().restart();
    Await.until("gauges come back", Duration.ofSeconds(20), () -> Prometheus.value(scrape(), "qwenedit_queue_depth") == 0.0);
  }
}
