package io.qwenedit.cli;

import io.qwenedit.queue.Job;
import io.vertx.core.json.JsonObject;

/** Shows a job moving: a one-line progress bar on a terminal, one line per change otherwise, nothing with --json. */
final class ProgressPrinter {
  private final CliContext ctx;
  private final boolean quiet;
  private String lastLine = "";
  private boolean barShown;

  ProgressPrinter(CliContext ctx, boolean quiet) {
    this.ctx = ctx;
    this.quiet = quiet;
  }

  synchronized void update(Job job) {
    if (quiet) {
      return;
    }
    String line = describe(job);
    if (line.equals(lastLine)) {
      return;
    }
    lastLine = line;
    if (ctx.terminal()) {
      ctx.out().print("\r\033[K" + line);
      ctx.out().flush();
      barShown = true;
    } else {
      ctx.out().println(line);
    }
  }

  synchronized void finish() {
    if (barShown) {
      ctx.out().println();
      barShown = false;
    }
  }

  static String describe(Job job) {
    switch (job.state()) {
      case QUEUED:
        if (job.dueAt() != null) {
          return "queued, retrying soon after: " + (job.error() == null ? "an error" : job.error().message());
        }
        return "queued";
      case RUNNING: {
        JsonObject p = job.progress();
        String where = job.gpu() != null ? " on " + job.gpu() : job.holder() != null ? " on " + job.holder() : "";
        if (p != null && p.getInteger("max", 0) > 0) {
          int value = p.getInteger("value", 0);
          int max = p.getInteger("max");
          int width = 20;
          int filled = Math.min(width, value * width / max);
          return "running" + where + " [" + "#".repeat(filled) + ".".repeat(width - filled) + "] " + value + "/" + max;
        }
        return "running" + where + (job.attempts() > 1 ? " (attempt " + job.attempts() + ")" : "");
      }
      default:
        return job.state().wire();
    }
  }
}
