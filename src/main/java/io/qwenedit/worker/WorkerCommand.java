package io.qwenedit.worker;

import io.qwenedit.cli.Args;
import io.qwenedit.cli.CliContext;
import io.qwenedit.cli.Command;
import io.qwenedit.cli.ExitCodes;
import io.qwenedit.cli.Logging;
import io.qwenedit.cli.Shutdown;
import io.qwenedit.config.Config;
import io.qwenedit.health.HealthServer;
import io.qwenedit.metrics.Meters;
import io.qwenedit.supervision.SupervisorVerticle;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/** {@code worker}: the GPU side. Runs until SIGTERM / Ctrl+C, then shuts down gracefully and exits 0. */
public final class WorkerCommand implements Command {
  @Override
  public String name() {
    return "worker";
  }

  @Override
  public String summary() {
    return "GPU side: claims jobs when a GPU is free and runs them on ComfyUI (COMFYUI_URL or COMFYUI_URLS)";
  }

  @Override
  public String usage() {
    return """
        Usage: java -jar qwenedit.jar worker

        Runs the worker: queue poller, GPU arbiter, ComfyUI dispatcher, heartbeat, reaper and the supervisor
        that redeploys any of them that stalls. One GPU slot per ComfyUI (COMFYUI_URL, or COMFYUI_URLS
        comma-separated). Settings: docs/configuration.md. Stops gracefully on SIGTERM or Ctrl+C: no new
        jobs, running ones get WORKER_SHUTDOWN_GRACE to finish, the rest go back to the queue; exit code 0.
        """;
  }

  @Override
  public Set<String> valuedOptions() {
    return Set.of();
  }

  @Override
  public Set<String> flagOptions() {
    return Set.of();
  }

  @Override
  public int run(Args args, CliContext ctx) throws Exception {
    args.noMorePositional(0);
    Config config = ctx.config();
    Logging.service(name(), config.log(), config.worker().logLevel(), ctx.err());
    Vertx vertx = Meters.vertxWithMetrics(new VertxOptions());
    WorkerRole role;
    try {
      role = WorkerRole.deploy(vertx, config, SupervisorVerticle.Options.defaults())
          .compose(r -> HealthServer.ensure(vertx, config).map(r))
          .await(2, TimeUnit.MINUTES);
    } catch (Exception e) {
      vertx.close();
      throw e;
    }
    Shutdown.onSignal(() -> {
      role.shutdown(config.worker().shutdownGrace()).await(config.worker().shutdownGrace().toMillis() + 45_000, TimeUnit.MILLISECONDS);
      // closed from this (non-Vert.x) thread: a continuation on the closing event loop would never run
      vertx.close().await(15, TimeUnit.SECONDS);
    });
    return ExitCodes.OK;
  }
}
