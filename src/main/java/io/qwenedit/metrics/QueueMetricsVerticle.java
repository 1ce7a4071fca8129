package io.qwenedit.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.qwenedit.config.Config;
import io.qwenedit.queue.JobQueue;
import io.qwenedit.queue.QueueResults.Snapshot;
import io.qwenedit.queue.Registry;
import io.qwenedit.redis.RedisCommands;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deployment-wide gauges read from Redis (queue depth, running jobs, dead letters, live workers, GPUs by state, the
 * queue's own counters), so whichever process serves /metrics shows the whole deployment. They are read when
 * /metrics is scraped (at most once per {@code METRICS_QUEUE_INTERVAL}), never on an idle timer: a worker nobody
 * scrapes sends Redis nothing but its heartbeats and blocking waits. While Redis cannot be read the gauges are NaN
 * (a gap in the graphs, not a stale number) and the totals keep their last value.
 */
public final class QueueMetricsVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(QueueMetricsVerticle.class);
  /** Fields of the queue's stats hash, exported as {@code qwenedit_queue_jobs_total{event=...}}. */
  static final List<String> EVENTS = List.of("enqueued", "succeeded", "failed", "dead", "cancelled", "retried", "reaped");
  private static final List<String> GPU_STATES_SEEN = List.of("healthy", "busy", "wedged", "unreachable", "other");

  private final Config config;
  private final Map<String, Double> values = new ConcurrentHashMap<>();
  private final Map<String, Double> totals = new ConcurrentHashMap<>();
  private final List<Meter> meters = new ArrayList<>();
  private RedisCommands redis;
  private JobQueue queue;
  private Registry workers;
  private Counter failures;
  private long lastRefreshAt;
  private io.vertx.core.eventbus.MessageConsumer<Object> scrapes;
  private Future<Void> current = Future.succeededFuture();
  private boolean inFlight;
  private boolean failing;
  private boolean stopped;

  public QueueMetricsVerticle(Config config) {
    this.config = config;
  }

  @Override
  public Future<?> start() {
    redis = new RedisCommands(vertx, config.redis(), "metrics");
    queue = new JobQueue(redis, config.queue());
    workers = Registry.workers(redis, queue.keys());
    MeterRegistry registry = Meters.registry(vertx);
    gauge(registry, "qwenedit.queue.depth", "Jobs waiting in line plus those waiting out a retry back-off (deployment-wide)", "depth");
    gauge(registry, "qwenedit.queue.waiting", "Jobs waiting in line (deployment-wide)", "waiting");
    gauge(registry, "qwenedit.queue.retrying", "Jobs waiting out a retry back-off (deployment-wide)", "retrying");
    gauge(registry, "qwenedit.queue.oldest.age.seconds", "Age of the job that has waited longest in line, 0 when none", "oldest");
    gauge(registry, "qwenedit.jobs.running", "Jobs running now (deployment-wide)", "running");
    gauge(registry, "qwenedit.dead.letters", "Jobs in the dead-letter set (deployment-wide)", "dead");
    gauge(registry, "qwenedit.workers.alive", "Workers whose registry entry is alive", "workers");
    for (String state : GPU_STATES_SEEN) {
      meters.add(Gauge.builder("qwenedit.gpus", values, v -> v.getOrDefault("gpus." + state, Double.NaN))
          .description("GPUs of the live workers by the state their worker reports").tag("state", state).register(registry));
    }
    for (String event : EVENTS) {
      meters.add(FunctionCounter.builder("qwenedit.queue.jobs", totals, t -> t.getOrDefault(event, 0.0))
          .description("Deployment-wide job counts kept by the queue itself (Redis), by event").tag("event", event).register(registry));
    }
    failures = Counter.builder("qwenedit.queue.snapshot.failures")
        .description("Times this process could not read the deployment-wide queue gauges from Redis").register(registry);
    meters.add(failures);
    markUnknown();
    scrapes = vertx.eventBus().localConsumer(SCRAPE_ADDRESS, msg -> {
      if (System.currentTimeMillis() - lastRefreshAt >= config.health().queueMetricsInterval().toMillis()) {
        refresh();
      }
      current.onComplete(ar -> msg.reply(null));
    });
    return scrapes.completion();
  }

  private void gauge(MeterRegistry registry, String name, String help, String key) {
    meters.add(Gauge.builder(name, values, v -> v.getOrDefault(key, Double.NaN)).description(help).register(registry));
  }

  /** Local address: a /metrics scrape asks for fresh gauges (answered once they are, or were, read). */
  public static final String SCRAPE_ADDRESS = "qwenedit.metrics.queue.scrape";

  private void refresh() {
    if (inFlight) {
      return;
    }
    inFlight = true;
    lastRefreshAt = System.currentTimeMillis();
    current = queue.snapshot(workers)
        .compose(snap -> oldestWaiting(snap).map(oldest -> {
          apply(snap, oldest);
          return snap;
        }))
        .onSuccess(snap -> {
          if (failing) {
            LOG.info("queue metrics: Redis at {} can be read again", config.redis().displayAddress());
          }
          failing = false;
        })
        .onFailure(err -> {
          if (stopped) {
            return;
          }
          failures.increment();
          markUnknown();
          if (!failing) {
            LOG.warn("queue metrics: cannot read the queue from Redis ({}); gauges show no value until it answers", err.getMessage());
          }
          failing = true;
        })
        .onComplete(ar -> inFlight = false)
        .<Void>mapEmpty()
        .otherwiseEmpty();
  }

  /** Seconds the head of the line has waited (Redis clock), 0 when the line is empty. */
  private Future<Double> oldestWaiting(Snapshot snap) {
    return redis.send(Command.ZRANGE, queue.keys().waiting(), 0, 0).compose(r -> {
      if (r == null || r.size() == 0) {
        return Future.succeededFuture(0.0);
      }
      // a job that was never requeued has no queued_at: it has waited since created_at
      return redis.send(Command.HMGET, queue.keys().job(r.get(0).toString()), "queued_at", "created_at").map(t -> {
        io.vertx.redis.client.Response q = t.get(0) != null ? t.get(0) : t.get(1);
        return q == null ? 0.0 : Math.max(0, (snap.at() - (long) Double.parseDouble(q.toString())) / 1000.0);
      });
    });
  }

  private void apply(Snapshot snap, double oldest) {
    values.put("waiting", (double) snap.queued());
    values.put("retrying", (double) snap.delayed());
    values.put("depth", (double) (snap.queued() + snap.delayed()));
    values.put("running", (double) snap.running().size());
    values.put("dead", (double) snap.dead());
    values.put("workers", (double) snap.workers().size());
    values.put("oldest", oldest);
    Map<String, Double> gpus = new ConcurrentHashMap<>();
    GPU_STATES_SEEN.forEach(s -> gpus.put(s, 0.0));
    for (int i = 0; i < snap.workers().size(); i++) {
      Object w = snap.workers().getValue(i);
      JsonArray list = w instanceof JsonObject o ? o.getJsonArray("gpus") : null;
      for (int g = 0; list != null && g < list.size(); g++) {
        Object gpu = list.getValue(g);
        String state = gpu instanceof JsonObject o ? o.getString("state", "other") : "other";
        gpus.merge(GPU_STATES_SEEN.contains(state) ? state : "other", 1.0, Double::sum);
      }
    }
    gpus.forEach((state, n) -> values.put("gpus." + state, n));
    for (String event : EVENTS) {
      Object v = snap.counters().getValue(event);
      if (v instanceof Number n) {
        totals.put(event, n.doubleValue());
      }
    }
  }

  private void markUnknown() {
    List.of("waiting", "retrying", "depth", "running", "dead", "workers", "oldest").forEach(k -> values.put(k, Double.NaN));
    GPU_STATES_SEEN.forEach(s -> values.put("gpus." + s, Double.NaN));
  }

  @Override
  public Future<?> stop() {
    stopped = true;
    MeterRegistry registry = Meters.registry(vertx);
    meters.forEach(registry::remove);
    return redis.close();
  }
}
