package io.qwenedit.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The names, types and labels JobMetrics produces in the Prometheus text, as docs/metrics.md lists them. */
class JobMetricsTest {
  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final JobMetrics metrics = JobMetrics.of(registry);

  private String text() {
    return registry.scrape();
  }

  private void assertLine(String line) {
    String t = text();
    assertTrue(t.contains("\n" + line + "\n") || t.startsWith(line + "\n"), "expected the line '" + line + "' in:\n" + t);
  }

  @Test
  void oneInstancePerRegistry() {
    assertSame(metrics, JobMetrics.of(registry));
  }

  @Test
  void jobOutcomesDurationsAndAttempts() {
    metrics.jobFinished("Succeeded", 2, Duration.ofSeconds(3), Duration.ofSeconds(40), Duration.ofSeconds(45));
    metrics.jobFinished("cancelled", 0, null, null, Duration.ofSeconds(1));
    metrics.attemptStarted();
    assertLine("qwenedit_jobs_finished_total{outcome=\"succeeded\"} 1.0");
    assertLine("qwenedit_jobs_finished_total{outcome=\"cancelled\"} 1.0");
    assertLine("qwenedit_job_queue_wait_seconds_count 1");
    assertLine("qwenedit_job_execution_seconds_bucket{outcome=\"succeeded\",le=\"60.0\"} 1");
    assertLine("qwenedit_job_execution_seconds_bucket{outcome=\"succeeded\",le=\"30.0\"} 0");
    assertLine("qwenedit_job_end_to_end_seconds_count{outcome=\"cancelled\"} 1");
    assertFalse(text().contains("qwenedit_job_execution_seconds_count{outcome=\"cancelled\"}"), "no run time for a job that never ran");
    assertLine("qwenedit_job_attempts_bucket{le=\"2.0\"} 1");
    assertLine("qwenedit_job_attempts_started_total 1.0");
  }

  @Test
  void leasesReaperAndPickup() {
    metrics.leaseExpired();
    metrics.reaped(3, 1);
    metrics.reaped(0, 0);
    metrics.pickup(Duration.ofMillis(2));
    assertLine("qwenedit_lease_expired_total 1.0");
    assertLine("qwenedit_jobs_reaped_total{action=\"requeued\"} 3.0");
    assertLine("qwenedit_jobs_reaped_total{action=\"dead\"} 1.0");
    assertLine("qwenedit_job_pickup_seconds_bucket{le=\"0.0025\"} 1");
    assertLine("qwenedit_job_pickup_seconds_bucket{le=\"0.001\"} 0");
  }

  @Test
  void gpuStateIsOneForTheCurrentStateOnly() {
    metrics.gpuState("gpu0", "healthy");
    metrics.gpuState("gpu0", "WEDGED");
    metrics.gpuState("gpu1", "on fire");
    metrics.gpuBusy("gpu0", Duration.ofMillis(1500));
    metrics.gpuBusy("gpu0", Duration.ofMillis(500));
    assertLine("qwenedit_gpu_state{gpu=\"gpu0\",state=\"wedged\"} 1.0");
    assertLine("qwenedit_gpu_state{gpu=\"gpu0\",state=\"healthy\"} 0.0");
    assertLine("qwenedit_gpu_state{gpu=\"gpu1\",state=\"healthy\"} 0.0");
    assertFalse(text().contains("state=\"on fire\""));
    assertLine("qwenedit_gpu_busy_seconds_total{gpu=\"gpu0\"} 2.0");
  }

  @Test
  void comfyEndpointsAreNamedByTemplateNeverByConcreteUrl() {
    metrics.comfyRequest("/history/5f6c-1234", Duration.ofMillis(20), false);
    metrics.comfyRequest("/view?filename=x.png&type=output", Duration.ofMillis(80), false);
    metrics.comfyRequest("/prompt", Duration.ofMillis(5), true);
    metrics.comfyRequest("/some/thing/new", Duration.ofMillis(5), true);
    metrics.stallInterrupt();
    metrics.comfyInterrupt("timeout");
    assertLine("qwenedit_comfy_request_seconds_count{endpoint=\"/history\",result=\"ok\"} 1");
    assertLine("qwenedit_comfy_request_seconds_count{endpoint=\"/view\",result=\"ok\"} 1");
    assertLine("qwenedit_comfy_request_failures_total{endpoint=\"/prompt\"} 1.0");
    assertLine("qwenedit_comfy_request_failures_total{endpoint=\"other\"} 1.0");
    assertLine("qwenedit_comfy_interrupts_total{reason=\"stall\"} 1.0");
    assertLine("qwenedit_comfy_interrupts_total{reason=\"timeout\"} 1.0");
  }

  @Test
  void supervisionRedisAndTelegram() {
    metrics.verticleRedeployed("QueuePollerVerticle", "stalled");
    metrics.redisReconnect("blocking");
    metrics.telegramError(429);
    metrics.telegramError("timeout");
    metrics.telegramError("something with spaces");
    metrics.messageSent();
    metrics.messageSent();
    assertLine("qwenedit_verticle_redeploys_total{reason=\"stalled\",verticle=\"QueuePollerVerticle\"} 1.0");
    assertLine("qwenedit_redis_reconnects_total{client=\"blocking\"} 1.0");
    assertLine("qwenedit_telegram_errors_total{code=\"429\"} 1.0");
    assertLine("qwenedit_telegram_errors_total{code=\"timeout\"} 1.0");
    assertLine("qwenedit_telegram_errors_total{code=\"other\"} 1.0");
    assertLine("qwenedit_telegram_messages_sent_total 2.0");
  }

  @Test
  void badValuesAreIgnoredNotThrown() {
    metrics.jobFinished(null, -1, Duration.ofSeconds(-1), null, null);
    metrics.gpuBusy(null, null);
    metrics.comfyRequest(null, null, false);
    metrics.verticleRedeployed(null, null);
    assertLine("qwenedit_jobs_finished_total{outcome=\"unknown\"} 1.0");
    assertEquals("other", JobMetrics.comfyEndpoint(null));
  }
}
