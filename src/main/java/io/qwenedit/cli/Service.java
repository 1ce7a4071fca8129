package io.qwenedit.cli;

import io.qwenedit.config.Config;
import io.qwenedit.metrics.Meters;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * How every long-running command starts and stops, so that {@code worker}, {@code api}, {@code bot} and {@code all}
 * behave alike: logging for the role, one Vert.x with metrics, the deployment within a time limit, and a graceful
 * stop on SIGTERM / Ctrl+C that ends with exit code 0. A start-up failure closes the Vert.x (no JVM left running with
 * nothing to do) and is reported by {@link Main} like any other command's: a configuration problem exits 2, Redis
 * unreachable 3, anything else 1, each with its reason in one line.
 */
public final class Service {
  /** What a service deployed; {@link #stop()} blocks and runs on the signal's thread, never on an event loop. */
  public interface Running {
    void stop() throws Exception;
  }

  private Service() {}

  /** Starts the role that {@code deploy} puts on a new Vert.x and returns once it runs (the JVM stays up). */
  public static int start(String name, CliContext ctx, Duration limit, Function<Vertx, Future<? extends Running>> deploy)
      throws Exception {
    Config config = ctx.config();
    Logging.service(name, config.log(), config.worker().logLevel(), ctx.err());
    Vertx vertx = Meters.vertxWithMetrics(new VertxOptions());
    Running running;
    try {
      running = deploy.apply(vertx).await(limit.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Throwable e) {
      closeQuietly(vertx);
      if (e instanceof TimeoutException) {
        ctx.err().println("The " + name + " did not start within " + limit.toSeconds()
            + " s; its log says what it was waiting for (Redis? a ComfyUI?).");
        return ExitCodes.FAILED;
      }
      throw e;
    }
    Shutdown.onSignal(() -> {
      running.stop();
      // closed from the signal's own thread: a continuation on the closing event loop would never run
      vertx.close().await(15, TimeUnit.SECONDS);
    });
    return ExitCodes.OK;
  }

  private static void closeQuietly(Vertx vertx) {
    try {
      vertx.close().await(15, TimeUnit.SECONDS);
    } catch (Throwable e) {
      // exiting anyway: the start-up failure is what the operator needs to read
    }
  }
}
