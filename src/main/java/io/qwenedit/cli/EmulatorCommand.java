package io.qwenedit.cli;

import io.qwenedit.emulator.ComfyEmulator;
import io.qwenedit.emulator.EmulatorOptions;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/** {@code emulator}: a ComfyUI-compatible server (no GPU, no model) for load tests, demos and as a worker's stand-in. */
final class EmulatorCommand implements Command {
  @Override
  public String name() {
    return "emulator";
  }

  @Override
  public String summary() {
    return "a ComfyUI-compatible server for load tests and demos (no GPU, no model)";
  }

  @Override
  public String usage() {
    return """
        Usage: java -jar qwenedit.jar emulator [--port 8188] [options]

        Serves ComfyUI's HTTP and WebSocket API for the Qwen-Image-Edit workflows: prompts are
        validated, queued and "run" one at a time with progress, and the result is a real PNG
        derived from the uploaded image. Runs until stopped (Ctrl+C / SIGTERM).
        Admin API: GET/POST/DELETE /_emulator/faults, GET/DELETE /_emulator/stats,
        POST /_emulator/restart (docs/comfyui.md).

        Options:
          --port N              port to listen on (default 8188; 0 = any free port)
          --host ADDR           address to listen on (default 127.0.0.1; 0.0.0.0 = all)
          --step-time SECONDS   time of one sampler step (default 0.25)
          --steps N             sampler steps to run (default: the workflow's KSampler steps)
          --node-time SECONDS   time of every other node (default 0.01)
          --model-load SECONDS  silent model-load time of the first prompt (default 0)
          --max-upload-size MB  request body limit, as ComfyUI's flag (default 100)
          --previews            send binary preview frames at each step
          --preview-size PX     longest side of a preview (default 512)
          --faults JSON         fault script, e.g. '{"random":[{"fault":"hang","p":0.05}]}'
          --faults-file FILE    fault script from a file
          --seed N              seed of the fault dice (reproducible runs)
        """;
  }

  @Override
  public Set<String> valuedOptions() {
    return Set.of("port", "host", "step-time", "steps", "node-time", "model-load", "max-upload-size", "preview-size", "faults",
        "faults-file", "seed");
  }

  @Override
  public Set<String> flagOptions() {
    return Set.of("previews");
  }

  @Override
  public int run(Args args, CliContext ctx) throws Exception {
    args.noMorePositional(0);
    EmulatorOptions options = options(args, ctx);
    Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));
    ComfyEmulator emulator;
    try {
      emulator = ComfyEmulator.start(vertx, options).await(30, TimeUnit.SECONDS);
    } catch (IllegalArgumentException e) {
      vertx.close();
      throw new UsageException(e.getMessage());
    } catch (Exception e) {
      vertx.close();
      throw new IllegalStateException("cannot listen on " + options.host() + ":" + options.port() + " (" + e.getMessage() + ")", e);
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        vertx.close().await(5, TimeUnit.SECONDS);
      } catch (Exception ignored) {
        // exiting anyway
      }
    }, "emulator-shutdown"));
    ctx.out().println("ComfyUI emulator listening on " + emulator.url() + " (admin: " + emulator.url() + "/_emulator/stats)");
    ctx.out().flush();
    return ExitCodes.OK;
  }

  static EmulatorOptions options(Args args, CliContext ctx) {
    EmulatorOptions o = EmulatorOptions.defaults()
        .withHost(args.get("host", "127.0.0.1"))
        .withPort(args.integer("port", 8188, 0, 65535))
        .withStepTime(millis(args, "step-time", 0.25))
        .withNodeTime(millis(args, "node-time", 0.01))
        .withModelLoadTime(millis(args, "model-load", 0))
        .withMaxUploadBytes((long) (args.seconds("max-upload-size", 100) * 1024 * 1024))
        .withPreviews(args.flag("previews"))
        .withPreviewSize(args.integer("preview-size", 512, 16, 4096));
    if (args.get("steps") != null) {
      o = o.withSteps(args.integer("steps", 4, 1, 10000));
    }
    if (args.get("seed") != null) {
      try {
        o = o.withRandomSeed(Long.parseLong(args.get("seed")));
      } catch (NumberFormatException e) {
        throw new UsageException("Option --seed of 'emulator' must be a whole number, not \"" + args.get("seed") + "\".");
      }
    }
    String script = args.get("faults");
    if (args.get("faults-file") != null) {
      if (script != null) {
        throw new UsageException("Give either --faults or --faults-file, not both.");
      }
      Path file = ctx.resolve(args.get("faults-file"));
      try {
        script = Files.readString(file);
      } catch (IOException e) {
        throw new UsageException("Cannot read the fault script " + file + ": " + e.getMessage());
      }
    }
    if (script != null) {
      try {
        o = o.withFaults(new JsonObject(script));
      } catch (DecodeException | ClassCastException e) {
        throw new UsageException("The fault script is not a JSON object: " + String.valueOf(e.getMessage()).split("\n")[0]);
      }
    }
    return o;
  }

  private static Duration millis(Args args, String name, double fallback) {
    return Duration.ofMillis(Math.round(args.secondsOrZero(name, fallback) * 1000));
  }
}
