package io.qwenedit.bench;

import static io.qwenedit.bench.Bench.percentile;

import io.qwenedit.config.Config;
import io.qwenedit.config.Settings;
import io.qwenedit.queue.JobQueue;
import io.qwenedit.queue.JobWaiter;
import io.qwenedit.queue.NewJob;
import io.qwenedit.queue.QueueResults.Claimed;
import io.qwenedit.redis.LocalRedisServer;
import io.qwenedit.redis.RedisCommands;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code scripts/bench-queue}: pick-up latency (a job queued into an idle queue until a waiting consumer holds it) and
 * throughput (enqueue → claim → complete of empty jobs, 16 claims in flight), on a redis-server of its own (or
 * REDIS_URL). Prints one JSON object.
 */
public final class QueueBench {
  /** A 1x1 PNG: the smallest real image, so jobs are "empty". */
  private static final Buffer TINY_PNG = Buffer.buffer(java.util.Base64.getDecoder().decode(
      "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="));

  /**
   * The jobs' prompt: "bench", or as long as --prompt-chars says (over 64, a record with a field over 64 bytes, as most
   * real ones are).
   */
  private static String prompt = "bench";

  private QueueBench() {}

  public static void main(String[] args) {
    Bench.exitWhenDone("bench-queue", () -> run(args));
  }

  private static void run(String[] args) throws Exception {
    Map<String, Integer> opts = Bench.intArgs("bench-queue", args,
        Map.of("--samples", 1000, "--pickup-warmup", 8000, "--jobs", 30_000, "--concurrency", 16, "--prompt-chars", 5));
    int samples = opts.get("--samples");
    int pickupWarmup = opts.get("--pickup-warmup");
    int jobs = opts.get("--jobs");
    int concurrency = opts.get("--concurrency");
    int promptChars = opts.get("--prompt-chars");
    prompt = promptChars <= 5 ? "bench".substring(0, promptChars) : "bench" + ".".repeat(promptChars - 5);
    String url = System.getenv("REDIS_URL");
    LocalRedisServer own = null;
    if (url == null || url.isBlank()) {
      own = LocalRedisServer.start();
      url = own.url();
    }
    Map<String, String> m = new HashMap<>();
    m.put("REDIS_URL", url);
    m.put("QUEUE_MAX_DEPTH", "10000000");
    m.put("QWENEDIT_PREFIX", "qwenedit-bench:");
    m.put("REDIS_POOL_SIZE", "4");
    Config cfg = Config.from(Settings.layered(List.of(m), List.of("bench")));
    if (promptChars > cfg.queue().maxPromptChars()) {
      if (own != null) {
        own.close();
      }
      Bench.usage("bench-queue", "--prompt-chars " + promptChars + " is over the queue's limit of "
          + cfg.queue().maxPromptChars() + " characters (MAX_PROMPT_CHARS); the jobs would be refused");
    }
    Vertx producerVertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setPreferNativeTransport(true));
    Vertx consumerVertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setPreferNativeTransport(true));
    RedisCommands producerRedis = new RedisCommands(producerVertx, cfg.redis(), "bench-producer");
    RedisCommands consumerRedis = new RedisCommands(consumerVertx, cfg.redis(), "bench-consumer");
    JobQueue producer = new JobQueue(producerRedis, cfg.queue());
    JobQueue consumer = new JobQueue(consumerRedis, cfg.queue());
    try {
      String version = info(producerRedis, "server").getOrDefault("redis_version", "?");
      producerRedis.send(Command.FLUSHDB).await(10, TimeUnit.SECONDS);
      // Every timed phase is preceded by an untimed run of its own shape, so its figures are those of the compiled
      // code: on 2 cores the JIT compiler, still busy after a short warm-up, took CPU from Redis and the consumer
      // in the middle of the measurement (jit_compile_ms_* show what is left of it).
      throughput(producerVertx, consumerVertx, producer, consumer, cfg, Math.min(jobs, 20_000), concurrency);
      producerRedis.send(Command.FLUSHDB).await(10, TimeUnit.SECONDS);
      Pickup pickup = pickup(consumerVertx, producer, consumer, cfg, samples, pickupWarmup);
      producerRedis.send(Command.FLUSHDB).await(10, TimeUnit.SECONDS);
      throughput(producerVertx, consumerVertx, producer, consumer, cfg, Math.min(jobs, 20_000), concurrency);
      producerRedis.send(Command.FLUSHDB).await(10, TimeUnit.SECONDS);
      long jitBefore = jitMillis();
      long cpuBefore = processCpuNanos();
      RedisLoad before = RedisLoad.read(producerRedis);
      double perSecond = throughput(producerVertx, consumerVertx, producer, consumer, cfg, jobs, concurrency);
      RedisLoad load = RedisLoad.read(producerRedis).since(before);
      long throughputJit = jitMillis() - jitBefore;
      long benchCpu = processCpuNanos() - cpuBefore;
      producerRedis.send(Command.FLUSHDB).await(10, TimeUnit.SECONDS);
      double drain = drain(producerVertx, consumerVertx, producer, consumer, cfg, jobs, concurrency);
      producerRedis.send(Command.FLUSHDB).await(10, TimeUnit.SECONDS);
      // the same with the claim as a call of its own after each completion's answer: the GPU worker's pattern (its
      // claims go through the GPU arbiter), for comparison
      double separate = throughput(producerVertx, consumerVertx, producer, consumer, cfg, jobs, concurrency, false);
      double[] ms = pickup.ms();
      Arrays.sort(ms);
      JsonObject out = new JsonObject()
          .put("pickup_p50_ms", round(percentile(ms, 50)))
          .put("pickup_p90_ms", round(percentile(ms, 90)))
          .put("pickup_p99_ms", round(percentile(ms, 99)))
          .put("pickup_max_ms", round(ms[ms.length - 1]))
          .put("pickup_samples", ms.length)
          .put("pickup_warmup", pickupWarmup)
          .put("throughput_jobs_per_s", Math.round(perSecond))
          .put("throughput_jobs", jobs)
          .put("redis_cpu_us_per_job", Math.round(load.cpuMicros() / jobs * 10) / 10.0)
          .put("redis_busy_pct", Math.round(load.cpuMicros() / load.wallMicros() * 100))
          .put("redis_calls_per_job", Math.round(load.calls() * 100.0 / jobs) / 100.0)
          .put("bench_cpu_us_per_job", Math.round(benchCpu / 1e3 / jobs * 10) / 10.0)
          .put("drain_jobs_per_s", Math.round(drain))
          .put("throughput_separate_claims_jobs_per_s", Math.round(separate))
          .put("jit_compile_ms_in_pickup", pickup.jitMillis())
          .put("jit_compile_ms_in_throughput", throughputJit)
          .put("concurrency", concurrency)
          .put("prompt_chars", prompt.length())
          .put("redis_version", version)
          .put("cpus", Runtime.getRuntime().availableProcessors());
      System.out.println(out.encode());
    } finally {
      producerRedis.close().await(5, TimeUnit.SECONDS);
      consumerRedis.close().await(5, TimeUnit.SECONDS);
      producerVertx.close().await(5, TimeUnit.SECONDS);
      consumerVertx.close().await(5, TimeUnit.SECONDS);
      if (own != null) {
        own.close();
      }
    }
  }

  /** Pick-up times in ms, and the JIT compiler's time while they were measured. */
  private record Pickup(double[] ms, long jitMillis) {}

  /**
   * One waiter parked in its blocking wait; each sample queues one job and times until the waiter holds it, after
   * {@code warmup} rounds of the same, untimed.
   */
  private static Pickup pickup(Vertx consumerVertx, JobQueue producer, JobQueue consumer, Config cfg, int samples,
                               int warmup) throws Exception {
    JobWaiter waiter = new JobWaiter(consumerVertx, consumer, cfg.redis(), cfg.queue(), "bench-pickup");
    try {
      double[] ms = new double[samples];
      long jitAtStart = 0;
      for (int i = -warmup; i < samples; i++) {
        if (i == 0) {
          jitAtStart = jitMillis();
        }
        AtomicLong heldAt = new AtomicLong();
        CountDownLatch got = new CountDownLatch(1);
        List<Claimed> held = new ArrayList<>();
        consumerVertx.runOnContext(v -> waitForOne(waiter, heldAt, held, got));
        Thread.sleep(3); // let the waiter park in BZPOPMIN: the queue is idle
        long t0 = System.nanoTime();
        producer.enqueue(NewJob.of(prompt, TINY_PNG)).await(10, TimeUnit.SECONDS);
        if (!got.await(10, TimeUnit.SECONDS)) {
          throw new IllegalStateException("pick-up sample " + i + " never arrived");
        }
        if (i >= 0) {
          ms[i] = (heldAt.get() - t0) / 1e6;
        }
        Claimed c = held.get(0);
        consumer.complete(c.id(), c.fence(), TINY_PNG, null).await(10, TimeUnit.SECONDS);
      }
      return new Pickup(ms, jitMillis() - jitAtStart);
    } finally {
      waiter.close().await(5, TimeUnit.SECONDS);
    }
  }

  private static void waitForOne(JobWaiter waiter, AtomicLong heldAt, List<Claimed> held, CountDownLatch got) {
    waiter.next(1).onSuccess(jobs -> {
      if (jobs.isEmpty()) {
        waitForOne(waiter, heldAt, held, got);
        return;
      }
      heldAt.set(System.nanoTime());
      held.addAll(jobs);
      got.countDown();
    });
  }

  /** A producer queues {@code jobs} empty jobs while one consumer claims (up to {@code concurrency} held) and completes them. */
  private static double throughput(Vertx producerVertx, Vertx consumerVertx, JobQueue producer, JobQueue consumer,
                                   Config cfg, int jobs, int concurrency) throws Exception {
    return throughput(producerVertx, consumerVertx, producer, consumer, cfg, jobs, concurrency, true);
  }

  private static double throughput(Vertx producerVertx, Vertx consumerVertx, JobQueue producer, JobQueue consumer,
                                   Config cfg, int jobs, int concurrency, boolean claimNext) throws Exception {
    Consumer run = new Consumer(consumerVertx, consumer, cfg, jobs, concurrency, "bench-throughput", claimNext);
    Promise<Void> produced = Promise.promise();
    producerVertx.runOnContext(v -> produce(producer, jobs, new AtomicInteger(), new AtomicInteger(), produced));
    produced.future().await(300, TimeUnit.SECONDS);
    return jobs / run.await();
  }

  /** Claim + complete only: the queue is filled first (not timed), then drained by one consumer. */
  private static double drain(Vertx producerVertx, Vertx consumerVertx, JobQueue producer, JobQueue consumer, Config cfg,
                              int jobs, int concurrency) throws Exception {
    Promise<Void> produced = Promise.promise();
    producerVertx.runOnContext(v -> produce(producer, jobs, new AtomicInteger(), new AtomicInteger(), produced));
    produced.future().await(300, TimeUnit.SECONDS);
    return jobs / new Consumer(consumerVertx, consumer, cfg, jobs, concurrency, "bench-drain", true).await();
  }

  /**
   * One consumer: claims whenever it holds fewer than {@code concurrency} jobs, completes each at once; with
   * {@code claimNext} each completion also takes the slot's next job (as BullMQ's worker does), else the slot is
   * free once the completion has answered.
   */
  private static final class Consumer {
    private final JobWaiter waiter;
    private final JobQueue queue;
    private final String holder;
    private final boolean claimNext;
    private final int concurrency;
    private final CountDownLatch done;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final long startedAt = System.nanoTime();
    private boolean waiting;

    Consumer(Vertx vertx, JobQueue queue, Config cfg, int jobs, int concurrency, String holder, boolean claimNext) {
      this.waiter = new JobWaiter(vertx, queue, cfg.redis(), cfg.queue(), holder);
      this.holder = holder;
      this.claimNext = claimNext;
      this.queue = queue;
      this.concurrency = concurrency;
      this.done = new CountDownLatch(jobs);
      vertx.runOnContext(v -> pull());
    }

    private void pull() {
      int room = concurrency - inFlight.get();
      if (waiting || room <= 0 || done.getCount() == 0) {
        return;
      }
      waiting = true;
      waiter.next(room).onSuccess(claimed -> {
        waiting = false;
        inFlight.addAndGet(claimed.size());
        claimed.forEach(this::run);
        pull();
      });
    }

    /** Completes the job and, with the same call, claims the slot's next one; a slot that gets none is free again. */
    private void run(Claimed c) {
      queue.completeAndClaim(c.id(), c.fence(), TINY_PNG, null, claimNext ? holder : null).onComplete(ar -> {
        done.countDown();
        Claimed next = ar.succeeded() ? ar.result().next() : null;
        if (next != null && done.getCount() > 0) {
          run(next);
          return;
        }
        inFlight.decrementAndGet();
        pull();
      });
    }

    /** Seconds from start until every job was completed. */
    double await() throws Exception {
      if (!done.await(300, TimeUnit.SECONDS)) {
        throw new IllegalStateException("consumer did not finish: " + done.getCount() + " jobs left");
      }
      double seconds = (System.nanoTime() - startedAt) / 1e9;
      waiter.close().await(5, TimeUnit.SECONDS);
      return seconds;
    }
  }

  /** Keeps up to 64 enqueues in flight until {@code total} were sent. */
  private static void produce(JobQueue producer, int total, AtomicInteger sent, AtomicInteger acked, Promise<Void> done) {
    while (sent.get() < total && sent.get() - acked.get() < 64) {
      sent.incrementAndGet();
      producer.enqueue(NewJob.of(prompt, TINY_PNG)).onComplete(ar -> {
        if (ar.failed()) {
          done.tryFail(ar.cause());
          return;
        }
        if (acked.incrementAndGet() == total) {
          done.tryComplete();
        } else {
          produce(producer, total, sent, acked, done);
        }
      });
    }
  }

  /** Redis's CPU time (user + system), the wall time and the commands it served, from one INFO. */
  private record RedisLoad(double cpuMicros, double wallMicros, long calls) {
    static RedisLoad read(RedisCommands redis) throws Exception {
      Map<String, String> info = info(redis, "default");
      double cpu = (Double.parseDouble(info.get("used_cpu_user")) + Double.parseDouble(info.get("used_cpu_sys"))) * 1e6;
      return new RedisLoad(cpu, System.nanoTime() / 1e3, Long.parseLong(info.get("total_commands_processed")));
    }

    /** From {@code start} to this reading; the INFO of {@code start} itself is counted in between and left out. */
    RedisLoad since(RedisLoad start) {
      return new RedisLoad(cpuMicros - start.cpuMicros, wallMicros - start.wallMicros, calls - start.calls - 1);
    }
  }

  /** The {@code field:value} lines of one INFO section. */
  private static Map<String, String> info(RedisCommands redis, String section) throws Exception {
    String text = redis.send(Command.INFO, section).await(10, TimeUnit.SECONDS).toString();
    Map<String, String> fields = new HashMap<>();
    text.lines().filter(l -> l.indexOf(':') > 0 && !l.startsWith("#"))
        .forEach(l -> fields.put(l.substring(0, l.indexOf(':')), l.substring(l.indexOf(':') + 1).strip()));
    return fields;
  }

  /** Milliseconds the JIT compiler has worked so far (its threads' time, summed). */
  private static long jitMillis() {
    var jit = ManagementFactory.getCompilationMXBean();
    return jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : 0; // -Xint: none
  }

  /** CPU time this whole process has used so far (every thread: event loops, GC, JIT), or -1 where unknown. */
  private static long processCpuNanos() {
    return ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
        ? os.getProcessCpuTime() : -1;
  }

  private static double round(double v) {
    return Math.round(v * 1000) / 1000.0;
  }
}
