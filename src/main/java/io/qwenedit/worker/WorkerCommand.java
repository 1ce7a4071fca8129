package io.qwenedit.worker;

import io.qwenedit.cli.Args;
import io.qwenedit.cli.CliContext;
import io.qwenedit.cli.Command;
import io.qwenedit.cli.Service;
import io.qwenedit.config.Config;
import io.qwenedit.health.HealthServer;
import io.qwenedit.supervision.SupervisorVerticle;
import java.time.Duration;
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
  public int run(Args args, CliContext ctx) throws Exception {
    args.noMorePositional(0);
    Config config = ctx.config();
    Duration grace = config.worker().shutdownGrace();
    return Service.start(name(), ctx, Duration.ofMinutes(2), vertx ->
        WorkerRole.deploy(vertx, config, SupervisorVerticle.Options.defaults())
            .compose(role -> HealthServer.ensure(vertx, config).map(v -> (Service.Running)
                () -> role.shutdown(grace).await(grace.toMillis() + 45_000, TimeUnit.MILLISECONDS))));
  }

}
