package io.qwenedit.cli;

import io.qwenedit.queue.Job;
import io.qwenedit.queue.JobFollower;
import io.qwenedit.queue.JobRejectedException;
import io.qwenedit.queue.JobState;
import io.qwenedit.queue.NewJob;
import io.qwenedit.queue.QueueResults.Enqueued;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

/** {@code submit}: validates and queues one edit; with {@code --wait} follows it to the end and writes the result. */
final class SubmitCommand implements Command {
  @Override
  public String name() {
    return "submit";
  }

  @Override
  public String summary() {
    return "queue one edit from the command line (--wait: follow it and save the result)";
  }

  @Override
  public String usage() {
    return """
        Usage: java -jar qwenedit.jar submit --image FILE --prompt TEXT [options]

        Queues an edit of FILE (PNG, JPEG or WebP) and prints the job id.

        Options:
          --image FILE            the picture to edit (required)
          --prompt TEXT           the edit instruction, e.g. "make the sky purple" (required)
          --workflow NAME         workflow from conf/workflows (default: the configured one)
          --seed N                sampler seed (default: random)
          --steps N               sampler steps (default: the workflow's)
          --idempotency-key KEY   submitting the same key again returns the same job
          --wait                  follow the job to its end; exit 0 only if it succeeded
          --out FILE              with --wait: write the edited image here
          --timeout SECONDS       with --wait: give up after this long (default 900)
          --json                  print JSON: {"id":...}; with --wait the final job object
                                  (id, state, error, ..., and result_file with --out)

        Exit codes: 0 queued (or, with --wait, succeeded), 1 refused or failed, 2 bad usage,
        3 Redis unreachable, 4 --wait timed out (the job stays queued).
        """;
  }

  @Override
  public Set<String> valuedOptions() {
    return Set.of("image", "prompt", "workflow", "seed", "steps", "idempotency-key", "out", "timeout");
  }

  @Override
  public Set<String> flagOptions() {
    return Set.of("wait", "json");
  }

  @Override
  public int run(Args args, CliContext ctx) throws Exception {
    args.noMorePositional(0);
    Path imageFile = ctx.resolve(args.required("image", "FILE (the picture to edit)"));
    String prompt = args.required("prompt", "TEXT (the edit instruction)");
    boolean json = args.flag("json");
    boolean wait = args.flag("wait");
    if (!wait && (args.get("out") != null || args.get("timeout") != null)) {
      throw new UsageException("--out and --timeout only make sense with --wait.");
    }
    double timeout = args.seconds("timeout", 900);
    JsonObject params = new JsonObject();
    if (args.get("seed") != null) {
      params.put("seed", parseLong(args.get("seed"), "--seed"));
    }
    if (args.get("steps") != null) {
      params.put("steps", args.integer("steps", 0, 1, 200));
    }
    Buffer image;
    try {
      image = Buffer.buffer(Files.readAllBytes(imageFile));
    } catch (NoSuchFileException e) {
      ctx.err().println("Cannot read the image: " + imageFile + " does not exist.");
      return ExitCodes.FAILED;
    } catch (IOException e) {
      ctx.err().println("Cannot read the image " + imageFile + ": " + e.getMessage());
      return ExitCodes.FAILED;
    }
    Path out = args.get("out") == null ? null : ctx.resolve(args.get("out"));

    NewJob job = new NewJob(prompt, image, params.isEmpty() ? null : params, args.get("workflow"),
        new JsonObject().put("kind", "cli").put("file", imageFile.getFileName().toString()), args.get("idempotency-key"));
    try (QueueSession s = QueueSession.open(ctx)) {
      Enqueued q;
      try {
        q = s.await(s.queue.enqueue(job));
      } catch (JobRejectedException e) {
        if (json) {
          ctx.out().println(new JsonObject().put("error", new JsonObject().put("code", e.code()).put("message", e.getMessage())).encode());
        } else {
          ctx.err().println("Not queued: " + e.getMessage());
        }
        return ExitCodes.FAILED;
      }
      if (!wait) {
        if (json) {
          ctx.out().println(q.toJson().encode());
        } else {
          ctx.out().println((q.duplicate() ? "Already queued as job " : "Queued job ") + q.id()
              + (q.position() > 0 ? " (number " + q.position() + " in line)" : ""));
        }
        return ExitCodes.OK;
      }
      if (!json) {
        ctx.out().println("Queued job " + q.id() + (q.position() > 0 ? " (number " + q.position() + " in line)" : "") + "; waiting for it...");
      }
      return follow(s, ctx, q.id(), Duration.ofMillis((long) (timeout * 1000)), out, json);
    }
  }

  /** Shared by {@code submit --wait} and {@code jobs watch}: follows to the end, writes the result, picks the exit code. */
  static int follow(QueueSession s, CliContext ctx, String id, Duration timeout, Path out, boolean json) throws Exception {
    ProgressPrinter printer = new ProgressPrinter(ctx, json);
    Job end;
    try {
      end = s.vertx.executeBlocking(() -> null).compose(x -> new JobFollower(s.vertx, s.queue).follow(id, timeout, printer::update))
          .await(timeout.toMillis() + 15_000, java.util.concurrent.TimeUnit.MILLISECONDS);
    } catch (JobFollower.FollowTimeoutException e) {
      printer.finish();
      Job last = e.lastSeen();
      String where = last == null ? "unknown" : last.state().wire();
      long live = s.await(s.workers.list()).size();
      String hint = last != null && last.state() == JobState.QUEUED
          ? (live == 0 ? " No worker is running: start one with 'java -jar qwenedit.jar worker'." : " " + live + " worker(s) are busy.")
          : "";
      String msg = "Gave up waiting after " + timeout.toSeconds() + " s: job " + id + " is still " + where + "." + hint
          + " The job is not cancelled; check it later with 'java -jar qwenedit.jar status'.";
      if (json) {
        JsonObject j = last == null ? new JsonObject().put("id", id) : last.toJson();
        ctx.out().println(j.put("error", new JsonObject().put("code", "wait_timeout").put("message", msg)).encode());
      } else {
        ctx.err().println(msg);
      }
      return ExitCodes.TIMEOUT;
    }
    printer.finish();
    if (end == null) {
      ctx.err().println("Job " + id + " does not exist (it may have expired after its retention time).");
      return ExitCodes.FAILED;
    }
    JsonObject result = end.toJson();
    if (end.state() == JobState.SUCCEEDED && out != null) {
      Buffer bytes = s.await(s.queue.image(end.resultRef()));
      if (bytes == null) {
        ctx.err().println("Job " + id + " succeeded but its result image has expired.");
        return ExitCodes.FAILED;
      }
      if (out.getParent() != null) {
        Files.createDirectories(out.getParent());
      }
      Files.write(out, bytes.getBytes());
      result.put("result_file", out.toString());
    }
    if (json) {
      ctx.out().println(result.encode());
    } else if (end.state() == JobState.SUCCEEDED) {
      ctx.out().println("Job " + id + " succeeded" + (out != null ? "; result written to " + out : "") + ".");
    } else {
      String why = end.error() == null ? "" : ": " + end.error().message() + " [" + end.error().code() + "]";
      ctx.err().println("Job " + id + " " + end.state().wire() + why);
    }
    return end.state() == JobState.SUCCEEDED ? ExitCodes.OK : ExitCodes.FAILED;
  }

  private static long parseLong(String v, String option) {
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new UsageException("Option " + option + " must be a whole number, not \"" + v + "\".");
    }
  }
}
