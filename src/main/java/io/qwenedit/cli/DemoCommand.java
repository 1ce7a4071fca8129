package io.qwenedit.cli;

import io.qwenedit.config.Config;
import io.qwenedit.config.ConfigLoader;
import io.qwenedit.demo.DemoRedis;
import io.qwenedit.demo.DemoRun;
import io.qwenedit.demo.DemoSamples;
import io.qwenedit.demo.DemoSamples.Sample;
import io.qwenedit.emulator.ComfyEmulator;
import io.qwenedit.emulator.EmulatorOptions;
import io.qwenedit.metrics.Meters;
import io.qwenedit.queue.JobEvents;
import io.qwenedit.queue.JobQueue;
import io.qwenedit.redis.LocalRedisServer;
import io.qwenedit.redis.RedisCommands;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code demo}: the whole system on one machine with nothing installed but a JDK: a Redis (found or started), two
 * emulated GPUs (ComfyUI emulators), a worker, the HTTP API (and the bot when TELEGRAM_BOT_TOKEN is set), and the
 * sample edits shipped in the jar, shown moving.
 */
final class DemoCommand implements Command {
  private static final int STEPS = 16;

  @Override
  public String name() {
    return "demo";
  }

  @Override
  public String summary() {
    return "see it work: Redis, two emulated GPUs, a worker, the API and sample edits, on this machine";
  }

  @Override
  public String usage() {
    return """
        Usage: java -jar qwenedit.jar demo [--once] [--results DIR] [--step-time SECONDS]

        Runs everything on this machine, with nothing to install but Java:
          - Redis: the one answering at REDIS_URL / REDIS_HOST:REDIS_PORT (default 127.0.0.1:6379), with the
            demo's keys under a prefix of their own; else a redis-server started on that port (the one on
            the PATH, else the one bundled in the jar), thrown away when the demo stops
          - two emulated GPUs: ComfyUI emulators that "edit" in a second or two (no GPU, no model)
          - a worker on both, the HTTP API on HTTP_PORT (8080) and health and metrics on HEALTH_PORT (8081),
            or free ports when those are taken (it says so); the Telegram bot when TELEGRAM_BOT_TOKEN is set
          - the sample pictures shipped in the jar, edited, with their progress shown as they move
        It prints where to look (API, health, metrics, the status command) and keeps running until
        Ctrl+C, so you can submit your own edits.

        Options:
          --once               stop when the samples are done: exit 0 if every one succeeded, 1 if not
          --results DIR        where the edited pictures go (default: demo-results)
          --step-time SECONDS  time of one sampler step of the emulated GPUs (default 0.1; 16 steps per edit)
        """;
  }

  @Override
  public Set<String> valuedOptions() {
    return Set.of("results", "step-time");
  }

  @Override
  public Set<String> flagOptions() {
    return Set.of("once");
  }

  @Override
  public int run(Args args, CliContext ctx) throws Exception {
    args.noMorePositional(0);
    boolean once = args.flag("once");
    Path results = ctx.resolve(args.get("results", "demo-results")).normalize();
    double stepTime = args.seconds("step-time", 0.1);
    Config base = ctx.config();
    Path logFile = Logging.service(name(), base.log(), base.worker().logLevel(), ctx.err());
    Logging.quietConsole();
    PrintStream out = ctx.out();
    List<Sample> samples = DemoSamples.load();
    out.println("qwenedit demo: " + samples.size() + " sample edits on two emulated GPUs, on this machine.");
    out.println();

    Vertx gpus = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true).setEventLoopPoolSize(2));
    Vertx vertx = Meters.vertxWithMetrics(new VertxOptions());
    Stack stack = new Stack(vertx, gpus);
    try {
      DemoRedis redis = DemoRedis.prepare(vertx, base.redis());
      stack.redis = redis;
      String prefix = redis.shared() ? base.redis().prefix() + "demo:" : base.redis().prefix();
      int httpPort = port(base.api().port(), out, "HTTP_PORT");
      int healthPort = port(base.health().port() == httpPort ? httpPort + 1 : base.health().port(), out, "HEALTH_PORT");
      List<String> gpuUrls = new ArrayList<>();
      EmulatorOptions emulated = EmulatorOptions.defaults().withStepTime(Duration.ofMillis(Math.round(stepTime * 1000))).withSteps(STEPS)
          .withModelLoadTime(Duration.ofMillis(Math.round(stepTime * 5000)));
      for (int i = 0; i < 2; i++) {
        ComfyEmulator e = ComfyEmulator.start(gpus, emulated.withRandomSeed((long) i)).await(30, TimeUnit.SECONDS);
        gpuUrls.add(e.url());
      }

      Map<String, String> env = new HashMap<>(ctx.env());
      env.put("REDIS_URL", redis.url());
      env.put("REDIS_PASSWORD", ""); // a password set for another Redis must not be sent to the demo's own
      env.put("QWENEDIT_PREFIX", prefix);
      env.put("COMFYUI_URLS", String.join(",", gpuUrls));
      env.put("HTTP_HOST", "127.0.0.1");
      env.put("HTTP_PORT", String.valueOf(httpPort));
      env.put("HEALTH_HOST", "127.0.0.1");
      env.put("HEALTH_PORT", String.valueOf(healthPort));
      env.put("WORKER_HEARTBEAT_INTERVAL", "1s"); // status shows the GPUs change state as they happen
      Config config = ConfigLoader.load(ctx.workDir(), env, ctx.configFile());
      Path demoConfig = writeDemoConfig(results, config, redis, httpPort, healthPort, gpuUrls);

      RoleSet roles = RoleSet.deploy(vertx, config).await(2, TimeUnit.MINUTES);
      stack.roles = roles;
      Shutdown.onSignal(stack::stop);

      String jar = jarCommand(ctx.workDir());
      boolean plainStatus = !redis.shared() && redis.url().equals(base.redis().connectionString()) && prefix.equals(base.redis().prefix());
      String cfgArg = plainStatus ? "" : " --config " + rel(ctx.workDir(), demoConfig);
      out.println("Redis      " + redis.story() + (redis.shared() ? "; the demo's keys start with " + prefix + " so they never mix with"
          + " a real deployment's" : ""));
      out.println("GPUs       2 emulated ComfyUI servers (" + STEPS + " steps of " + fmt(stepTime) + " s per edit): " + gpuUrls.get(0)
          + " (gpu0), " + gpuUrls.get(1) + " (gpu1)");
      out.println("           (no GPU and no model here: an emulated edit is the picture's colour negative, stamped with the"
          + " instruction's hash)");
      out.println("Worker     " + config.worker().workerId() + " on both GPUs" + (roles.roles().contains("bot") ? "; the Telegram bot"
          + " runs too (send it a photo with an instruction)" : ""));
      out.println("HTTP API   http://127.0.0.1:" + httpPort + "/v1/jobs   (docs/api.md)");
      out.println("Health     http://127.0.0.1:" + healthPort + "/health/ready   metrics: http://127.0.0.1:" + healthPort + "/metrics");
      out.println("Status     " + jar + cfgArg + " status --watch   (in another terminal; also: jobs, doctor)");
      out.println("Results    " + results + (logFile == null ? "" : "   log: " + logFile));
      out.println();
      out.println("Queuing the sample edits:");

      RedisCommands commands = new RedisCommands(vertx, config.redis(), "demo");
      JobQueue queue = new JobQueue(commands, config.queue());
      JobEvents events = new JobEvents(vertx, config.redis(), queue.keys());
      events.start();
      long t0 = System.nanoTime();
      List<DemoRun.Outcome> outcomes = new DemoRun(vertx, queue, events, results, out, samples).run(samples, Duration.ofMinutes(3))
          .await(4, TimeUnit.MINUTES);
      double took = (System.nanoTime() - t0) / 1e9;
      long ok = outcomes.stream().filter(DemoRun.Outcome::succeeded).count();
      out.println();
      out.printf(Locale.ROOT, "%d of %d sample edits succeeded in %.1f s; the edited pictures (and the originals) are in %s%n", ok,
          outcomes.size(), took, results);
      outcomes.stream().filter(o -> !o.succeeded()).forEach(o -> out.println("  " + o.sample().name() + " failed: " + o.problem()));
      events.close();
      commands.close();
      if (once) {
        stack.stop();
        return ok == outcomes.size() ? ExitCodes.OK : ExitCodes.FAILED;
      }
      out.println();
      out.println("The demo keeps running. Try your own edit:");
      out.println("  " + jar + cfgArg + " submit --image photo.jpg --prompt \"make the sky purple\" --wait --out edited.png");
      out.println("  curl -F image=@photo.jpg -F prompt=\"make the sky purple\" http://127.0.0.1:" + httpPort + "/v1/jobs");
      out.println("Ctrl+C stops it.");
      out.flush();
      return ExitCodes.OK;
    } catch (Exception e) {
      stack.stop();
      if (e instanceof IllegalStateException || e instanceof IllegalArgumentException) {
        ctx.err().println("The demo could not start: " + Main.describe(e));
        return ExitCodes.FAILED;
      }
      throw e;
    }
  }

  /** Everything the demo started, stopped once in reverse order (Ctrl+C, --once, or a failed start). */
  private static final class Stack {
    final Vertx vertx;
    final Vertx gpus;
    final AtomicBoolean stopped = new AtomicBoolean();
    volatile RoleSet roles;
    volatile DemoRedis redis;

    Stack(Vertx vertx, Vertx gpus) {
      this.vertx = vertx;
      this.gpus = gpus;
    }

    void stop() throws Exception {
      if (!stopped.compareAndSet(false, true)) {
        return;
      }
      try {
        if (roles != null) {
          roles.stop();
        } else {
          vertx.close().await(15, TimeUnit.SECONDS);
        }
        gpus.close().await(10, TimeUnit.SECONDS);
      } finally {
        // the process may end with Runtime.halt, which runs no shutdown hook: the Redis we started goes now
        if (redis != null) {
          redis.close();
        }
      }
    }
  }

  /** The configured port when it is free on this machine, else a free one (and says so). */
  private static int port(int wanted, PrintStream out, String setting) {
    if (LocalRedisServer.portFree(wanted)) {
      return wanted;
    }
    int other = LocalRedisServer.freePort();
    out.println("Port " + wanted + " (" + setting + ") is taken: the demo uses " + other + " instead.");
    return other;
  }

  /** A config file for the CLI commands (status, submit, jobs, doctor) to reach the demo's deployment. */
  private static Path writeDemoConfig(Path results, Config config, DemoRedis redis, int httpPort, int healthPort, List<String> gpus)
      throws java.io.IOException {
    Files.createDirectories(results);
    Path file = results.resolve("demo-config.json");
    JsonObject json = new JsonObject()
        .put("_comment", "Written by 'qwenedit demo': pass it to other commands with --config to reach the demo's deployment.")
        .put("REDIS_URL", redis.url())
        .put("QWENEDIT_PREFIX", config.redis().prefix())
        .put("COMFYUI_URLS", String.join(",", gpus))
        .put("HTTP_PORT", httpPort)
        .put("HEALTH_PORT", healthPort);
    Files.writeString(file, json.encodePrettily());
    return file;
  }

  /** How this jar is started from the working directory (java -jar target/qwenedit.jar when run from classes). */
  static String jarCommand(Path workDir) {
    try {
      Path code = Path.of(DemoCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      if (code.toString().endsWith(".jar")) {
        return "java -jar " + rel(workDir, code);
      }
    } catch (Exception ignored) {
      // fall through to the usual place
    }
    return "java -jar target/qwenedit.jar";
  }

  private static String rel(Path workDir, Path file) {
    try {
      Path r = workDir.toAbsolutePath().relativize(file.toAbsolutePath());
      return r.toString().startsWith("..") ? file.toAbsolutePath().toString() : r.toString();
    } catch (IllegalArgumentException e) {
      return file.toAbsolutePath().toString(); // another drive on Windows
    }
  }

  private static String fmt(double d) {
    return d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d);
  }
}
