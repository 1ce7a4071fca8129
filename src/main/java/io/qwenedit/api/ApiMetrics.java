package io.qwenedit.api;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.atomic.AtomicInteger;

/** The HTTP API's own meters: submissions by result, refusals by code, open event streams (docs/metrics.md). */
final class ApiMetrics {
  private final MeterRegistry registry;
  private final AtomicInteger streams = new AtomicInteger();
  private final Gauge streamsGauge;

  ApiMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.streamsGauge = Gauge.builder("qwenedit.api.event.streams", streams, AtomicInteger::get)
        .description("Server-Sent Events streams open now").register(registry);
  }

  /** result: accepted (a new job) or duplicate (an idempotency key seen before). */
  void submitted(boolean duplicate) {
    Counter.builder("qwenedit.api.submissions").description("Jobs submitted through the API, by result")
        .tag("result", duplicate ? "duplicate" : "accepted").register(registry).increment();
  }

  /** A request refused with an error code (rate_limited, queue_full, image_too_large, unauthorized, ...). */
  void refused(String code) {
    Counter.builder("qwenedit.api.refusals").description("API requests answered with an error, by error code")
        .tag("code", code).register(registry).increment();
  }

  void streamOpened() {
    streams.incrementAndGet();
  }

  void streamClosed() {
    streams.decrementAndGet();
  }

  void close() {
    registry.remove(streamsGauge);
  }
}
