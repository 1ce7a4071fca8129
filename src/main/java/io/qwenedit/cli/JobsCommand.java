package io.qwenedit.cli;

import io.qwenedit.queue.Job;
import io.qwenedit.queue.QueueResults.Outcome;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** {@code jobs}: dead letters (list, retry one, retry all) and cancelling a job. */
final class JobsCommand implements Command {
  @Override
  public String name() {
    return "jobs";
  }

  @Override
  public String summary() {
    return "dead letters (list, retry), cancel a job";
  }

  @Override
  public String usage() {
    return """
        Usage: java -jar qwenedit.jar jobs <subcommand> [options]

        Subcommands:
          dead [--limit N]        list dead-lettered jobs with the reason they died (newest first)
          retry ID                put one dead-lettered job back in line
          retry --all-dead        put every dead-lettered job back in line
          cancel ID               cancel a job (a queued one at once; a running one is interrupted)

        Options:
          --json                  machine-readable output
        """;
  }

  @Override
  public Set<String> valuedOptions() {
    return Set.of("limit");
  }

  @Override
  public Set<String> flagOptions() {
    return Set.of("json", "all-dead");
  }

  @Override
  public int run(Args args, CliContext ctx) {
    List<String> pos = args.positional();
    if (pos.isEmpty()) {
      throw new UsageException("'jobs' needs a subcommand: dead, retry or cancel. Run 'java -jar qwenedit.jar jobs --help'.");
    }
    String sub = pos.get(0);
    boolean json = args.flag("json");
    switch (sub) {
      case "dead":
        args.noMorePositional(1);
        return dead(ctx, args.integer("limit", 50, 1, 100_000), json);
      case "retry":
        if (args.flag("all-dead")) {
          args.noMorePositional(1);
          return retryAll(ctx, json);
        }
        args.noMorePositional(2);
        return retry(ctx, idArg(pos, "retry"), json);
      case "cancel":
        args.noMorePositional(2);
        return cancel(ctx, idArg(pos, "cancel"), json);
      default:
        throw new UsageException("Unknown subcommand 'jobs " + sub + "'. Use dead, retry or cancel.");
    }
  }

  private static String idArg(List<String> pos, String sub) {
    if (pos.size() < 2) {
      throw new UsageException("'jobs " + sub + "' needs a job id" + ("retry".equals(sub) ? " (or --all-dead)" : "") + ".");
    }
    return pos.get(1);
  }

  private static int dead(CliContext ctx, int limit, boolean json) {
    try (QueueSession s = QueueSession.open(ctx)) {
      List<Job> dead = s.await(s.queue.dead(limit));
      if (json) {
        JsonArray arr = new JsonArray();
        dead.forEach(j -> arr.add(j.toJson()));
        ctx.out().println(new JsonObject().put("dead", arr).encodePrettily());
        return ExitCodes.OK;
      }
      if (dead.isEmpty()) {
        ctx.out().println("No dead-lettered jobs.");
        return ExitCodes.OK;
      }
      for (Job j : dead) {
        String when = j.finishedAt() == null ? "?" : java.time.Instant.ofEpochMilli(j.finishedAt()).toString();
        ctx.out().println(String.format(Locale.ROOT, "%s  %s  attempts %d  %s: %s", j.id(), when, j.attempts(),
            j.error() == null ? "?" : j.error().code(), j.error() == null ? "" : j.error().message()));
      }
      return ExitCodes.OK;
    }
  }

  private static int retry(CliContext ctx, String id, boolean json) {
    try (QueueSession s = QueueSession.open(ctx)) {
      Outcome o = s.await(s.queue.retryDead(id));
      if (json) {
        ctx.out().println(new JsonObject().put("id", id).put("retried", o.accepted()).put("state", o.state()).encode());
      } else if (o.accepted()) {
        ctx.out().println("Job " + id + " is back in line (number " + s.await(s.queue.position(id)) + ").");
      } else {
        ctx.err().println("Job " + id + " was not retried: " + explain(o.state()));
      }
      return o.accepted() ? ExitCodes.OK : ExitCodes.FAILED;
    }
  }

  static String explain(String state) {
    switch (state) {
      case "missing":
        return "no such job (it may have expired).";
      case "no_input":
        return "its input image has expired, so it cannot run again.";
      default:
        return "it is " + state + ", not dead.";
    }
  }

  private static int retryAll(CliContext ctx, boolean json) {
    try (QueueSession s = QueueSession.open(ctx)) {
      int n = s.await(s.queue.retryAllDead());
      if (json) {
        ctx.out().println(new JsonObject().put("retried", n).encode());
      } else {
        ctx.out().println(n + " dead-lettered job" + (n == 1 ? " is" : "s are") + " back in line.");
      }
      return ExitCodes.OK;
    }
  }

  private static int cancel(CliContext ctx, String id, boolean json) {
    try (QueueSession s = QueueSession.open(ctx)) {
      String r = s.await(s.queue.cancel(id));
      boolean ok = "cancelled".equals(r) || "requested".equals(r);
      if (json) {
        ctx.out().println(new JsonObject().put("id", id).put("result", r).encode());
      } else if ("cancelled".equals(r)) {
        ctx.out().println("Job " + id + " cancelled.");
      } else if ("requested".equals(r)) {
        ctx.out().println("Job " + id + " is running; its worker has been told to stop it.");
      } else if ("missing".equals(r)) {
        ctx.err().println("No job " + id + " (it may have expired).");
      } else {
        ctx.err().println("Job " + id + " is already " + r + ".");
      }
      return ok ? ExitCodes.OK : ExitCodes.FAILED;
    }
  }
}
