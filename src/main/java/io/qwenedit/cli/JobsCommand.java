package io.qwenedit.cli;

import io.qwenedit.queue.Job;
import io.qwenedit.queue.JobSearch;
import io.qwenedit.queue.JobState;
import io.qwenedit.queue.QueueResults.Outcome;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** {@code jobs}: one job in detail, following one, finding a person's jobs, dead letters, cancelling. */
final class JobsCommand implements Command {
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS").withZone(ZoneId.systemDefault());
  private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss.SSS").withZone(ZoneId.systemDefault());
  private static final Map<String, Set<String>> SUB_OPTIONS = Map.of("watch", Set.of("out", "timeout"),
      "find", Set.of("user", "chat", "client", "kind", "limit"), "dead", Set.of("limit"), "retry", Set.of("all-dead"),
      "purge-dead", Set.of("yes"));

  @Override
  public String name() {
    return "jobs";
  }

  @Override
  public String summary() {
    return "one job in detail, follow one, find a person's jobs, dead letters (list, retry, purge), cancel";
  }

  @Override
  public String usage() {
    return """
        Usage: java -jar qwenedit.jar jobs <subcommand> [options]

        Subcommands:
          show ID                 one job: state, prompt, who asked, worker and GPU, every attempt with
                                  its timings and error, the result
          watch ID                follow a job to its end, like 'submit --wait'; exit 0 only if it
                                  succeeded (--out FILE writes the edited image, --timeout SECONDS)
          find --chat ID | --user ID | --client NAME | --kind KIND
                                  a person's jobs, newest first (--limit N, default 20). Telegram jobs
                                  carry chat and user, API jobs client, every job kind (telegram, api,
                                  cli, demo). Cost: there is no index by person, so this walks every
                                  job record with SCAN (1000 keys per call) and reads each one's source
                                  field: one pass over the keyspace, never a long block of Redis. Fine
                                  now and then; finished jobs are kept JOB_RETENTION (24 h).
          dead [--limit N]        dead-lettered jobs with the reason they died (newest first)
          retry ID                put one dead-lettered job back in line
          retry --all-dead        put every dead-lettered job back in line
          purge-dead [--yes]      delete every dead-lettered job for good (records and images); asks
                                  for confirmation (y/N) unless --yes is given
          cancel ID               cancel a job (a queued one at once; a running one is interrupted)

        Options:
          --json                  machine-readable output ('show': the job object of docs/api.md plus
                                  position; 'watch': the final job object)

        Exit codes: 0 ok (watch: the job succeeded), 1 failed / not found / not confirmed,
        2 bad usage, 3 Redis unreachable, 4 watch timed out.
        """;
  }

  @Override
  public Set<String> valuedOptions() {
    return Set.of("limit", "out", "timeout", "user", "chat", "client", "kind");
  }

  @Override
  public Set<String> flagOptions() {
    return Set.of("json", "all-dead", "yes");
  }

  @Override
  public int run(Args args, CliContext ctx) throws Exception {
    List<String> pos = args.positional();
    if (pos.isEmpty()) {
      throw new UsageException("'jobs' needs a subcommand: show, watch, find, dead, retry, purge-dead or cancel."
          + " Run 'java -jar qwenedit.jar jobs --help'.");
    }
    String sub = pos.get(0);
    boolean json = args.flag("json");
    Set<String> allowed = SUB_OPTIONS.getOrDefault(sub, Set.of());
    for (String option : List.of("limit", "out", "timeout", "user", "chat", "client", "kind", "all-dead", "yes")) {
      if (args.get(option) != null && !allowed.contains(option)) {
        throw new UsageException("Option --" + option + " does not apply to 'jobs " + sub + "'. Run 'java -jar qwenedit.jar jobs --help'.");
      }
    }
    switch (sub) {
      case "show":
        args.noMorePositional(2);
        return show(ctx, idArg(pos, sub), json);
      case "watch": {
        args.noMorePositional(2);
        String id = idArg(pos, sub);
        Path out = args.get("out") == null ? null : ctx.resolve(args.get("out"));
        Duration timeout = Duration.ofMillis((long) (args.seconds("timeout", 900) * 1000));
        try (QueueSession s = QueueSession.open(ctx)) {
          return SubmitCommand.follow(s, ctx, id, timeout, out, json);
        }
      }
      case "find":
        args.noMorePositional(1);
        return find(ctx, args, json);
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
      case "purge-dead":
        args.noMorePositional(1);
        return purgeDead(ctx, args.flag("yes"), json);
      case "cancel":
        args.noMorePositional(2);
        return cancel(ctx, idArg(pos, "cancel"), json);
      default:
        throw new UsageException("Unknown subcommand 'jobs " + sub + "'. Use show, watch, find, dead, retry, purge-dead or cancel.");
    }
  }

  private static String idArg(List<String> pos, String sub) {
    if (pos.size() < 2) {
      throw new UsageException("'jobs " + sub + "' needs a job id" + ("retry".equals(sub) ? " (or --all-dead)" : "") + ".");
    }
    return pos.get(1);
  }

  // ---------------------------------------------------------------- show

  private static int show(CliContext ctx, String id, boolean json) {
    try (QueueSession s = QueueSession.open(ctx)) {
      Job job = s.await(s.queue.get(id));
      if (job == null) {
        ctx.err().println("No job " + id + " (never queued, or expired after its retention time).");
        return ExitCodes.FAILED;
      }
      Integer position = job.state() == JobState.QUEUED ? s.await(s.queue.position(id)) : null;
      if (json) {
        ctx.out().println(job.toJson().put("position", position).encodePrettily());
      } else {
        ctx.out().print(describe(job, position));
      }
      return ExitCodes.OK;
    }
  }

  /** The human view of one job (plain class logic, tested without Redis). */
  static String describe(Job j, Integer position) {
    StringBuilder sb = new StringBuilder();
    sb.append("Job ").append(j.id()).append("  ").append(j.state().wire().toUpperCase(Locale.ROOT))
        .append(j.cancelRequested() && !j.state().terminal() ? " (cancel requested)" : "").append('\n');
    line(sb, "prompt", j.prompt());
    line(sb, "asked by", source(j.source()));
    String params = j.params() == null || j.params().isEmpty() ? "" : "  " + j.params().encode();
    line(sb, "workflow", (j.workflow() == null || j.workflow().isEmpty() ? "(the configured default)" : j.workflow()) + params);
    if (j.inputInfo() != null) {
      line(sb, "input", image(j.inputInfo()));
    }
    line(sb, "created", time(j.createdAt()));
    if (j.state() == JobState.QUEUED) {
      if (j.dueAt() != null) {
        line(sb, "retry at", time(j.dueAt()) + " (waiting out a back-off after a failed attempt)");
      } else {
        line(sb, "position", position == null ? "?" : position + " in line");
      }
    }
    if (j.startedAt() != null) {
      line(sb, "started", time(j.startedAt()) + (j.queuedAt() != null && j.startedAt() >= j.queuedAt()
          ? " (waited " + secs(j.startedAt() - j.queuedAt()) + " in line)" : ""));
    }
    if (j.finishedAt() != null) {
      line(sb, "finished", time(j.finishedAt()) + (j.createdAt() != null ? " (" + secs(j.finishedAt() - j.createdAt()) + " after the request)" : ""));
    }
    if (j.state() == JobState.RUNNING) {
      line(sb, "worker", (j.holder() == null ? "?" : j.holder()) + (j.gpu() == null ? "" : ", GPU " + j.gpu())
          + (j.promptId() == null ? "" : ", ComfyUI prompt " + j.promptId()));
      if (j.progress() != null && j.progress().getInteger("max", 0) > 0) {
        line(sb, "progress", "step " + j.progress().getInteger("value", 0) + " of " + j.progress().getInteger("max"));
      }
      if (j.leaseUntil() != null) {
        line(sb, "lease until", time(j.leaseUntil()) + " (if the worker stops renewing it, the job goes back in line)");
      }
    }
    sb.append(String.format(Locale.ROOT, "  %-11s %d%s%n", "attempts", j.attempts(), j.stalls() > 0 ? " (" + j.stalls()
        + " abandoned by a worker that died or hung)" : ""));
    JsonArray log = j.attemptLog() == null ? new JsonArray() : j.attemptLog();
    for (int i = 0; i < log.size(); i++) {
      if (log.getValue(i) instanceof JsonObject a) {
        sb.append("    ").append(attempt(a)).append('\n');
      }
    }
    if (j.state() == JobState.RUNNING) {
      sb.append("    #").append(j.attempts()).append(' ').append(j.holder()).append(j.gpu() == null ? "" : " " + j.gpu())
          .append("  ").append(clock(j.startedAt())).append(" -> (running)\n");
    }
    if (j.error() != null) {
      line(sb, "error", j.error().code() + ": " + j.error().message() + (j.error().retryable() && !j.state().terminal()
          ? " (it will be tried again)" : ""));
    }
    if (j.resultRef() != null) {
      line(sb, "result", (j.resultInfo() == null ? "" : image(j.resultInfo()) + ", ") + "stored as " + j.resultRef()
          + "; save it with 'jobs watch " + j.id() + " --out FILE' or GET /v1/jobs/" + j.id() + "/result");
    }
    if (j.state() == JobState.DEAD) {
      sb.append("  Put it back in line with 'java -jar qwenedit.jar jobs retry ").append(j.id()).append("'.\n");
    }
    return sb.toString();
  }

  private static String attempt(JsonObject a) {
    Long started = a.getLong("started_at");
    Long ended = a.getLong("ended_at");
    String took = started != null && ended != null ? " (" + secs(ended - started) + ")" : "";
    String outcome = a.getString("outcome", "?");
    String why = a.getString("code") == null ? "" : ": " + a.getString("code") + (a.getString("message") == null ? "" : " - " + a.getString("message"));
    return "#" + a.getValue("attempt", "?") + " " + a.getString("holder", "?") + (a.getString("gpu") == null ? "" : " " + a.getString("gpu"))
        + "  " + clock(started) + " -> " + clock(ended) + took + "  " + outcome + ("succeeded".equals(outcome) ? "" : why);
  }

  private static String source(JsonObject src) {
    if (src == null) {
      return "unknown";
    }
    String kind = src.getString("kind", "?");
    switch (kind) {
      case "telegram":
        return "Telegram user " + src.getValue("user", "?") + " in chat " + src.getValue("chat", "?")
            + (src.getValue("message") == null ? "" : " (message " + src.getValue("message") + ")");
      case "api":
        return "HTTP API client " + src.getValue("client", "?");
      case "cli":
        return "the command line" + (src.getString("file") == null ? "" : " (file " + src.getString("file") + ")");
      default:
        return kind + " " + src.encode();
    }
  }

  private static String image(JsonObject info) {
    StringBuilder sb = new StringBuilder();
    sb.append(info.getString("format", "?"));
    if (info.getValue("width") != null) {
      sb.append(' ').append(info.getValue("width")).append('x').append(info.getValue("height"));
    }
    if (info.getValue("bytes") instanceof Number n) {
      sb.append(", ").append(n.longValue() >= 1024 * 1024 ? String.format(Locale.ROOT, "%.1f MB", n.longValue() / 1048576.0)
          : (n.longValue() + 1023) / 1024 + " KB");
    }
    return sb.toString();
  }

  private static void line(StringBuilder sb, String label, String value) {
    sb.append(String.format(Locale.ROOT, "  %-11s %s%n", label, value));
  }

  private static String time(Long ms) {
    return ms == null ? "?" : TIME.format(Instant.ofEpochMilli(ms));
  }

  private static String clock(Long ms) {
    return ms == null ? "?" : CLOCK.format(Instant.ofEpochMilli(ms));
  }

  private static String secs(long ms) {
    return String.format(Locale.ROOT, "%.1f s", ms / 1000.0);
  }

  // ---------------------------------------------------------------- find

  private static int find(CliContext ctx, Args args, boolean json) {
    Map<String, String> match = new LinkedHashMap<>();
    for (String option : List.of("kind", "chat", "user", "client")) {
      if (args.get(option) != null) {
        match.put(option, args.get(option)); // the option names are the source fields
      }
    }
    if (match.isEmpty()) {
      throw new UsageException("'jobs find' needs at least one of --chat ID, --user ID, --client NAME or --kind KIND.");
    }
    int limit = args.integer("limit", 20, 1, 10_000);
    try (QueueSession s = QueueSession.open(ctx)) {
      JobSearch.Found found = s.await(new JobSearch(s.queue).bySource(match, limit));
      if (json) {
        JsonArray arr = new JsonArray();
        found.jobs().forEach(j -> arr.add(j.toJson()));
        ctx.out().println(new JsonObject().put("jobs", arr).put("matched", found.matched()).put("scanned", found.scanned()).encodePrettily());
        return ExitCodes.OK;
      }
      if (found.jobs().isEmpty()) {
        ctx.out().println("No job matches " + match + " (" + found.scanned() + " job records looked at; finished jobs are kept for JOB_RETENTION).");
        return ExitCodes.OK;
      }
      ctx.out().println(found.matched() + " job(s) match " + match + (found.matched() > found.jobs().size()
          ? ", the newest " + found.jobs().size() + " shown (--limit)" : "") + " (" + found.scanned() + " job records looked at):");
      for (Job j : found.jobs()) {
        ctx.out().println(String.format(Locale.ROOT, "%s  %-9s  %s  %s%s", j.id(), j.state().wire(), time(j.createdAt()),
            abbreviate(j.prompt(), 50), j.error() == null ? "" : "  [" + j.error().code() + "]"));
      }
      return ExitCodes.OK;
    }
  }

  private static String abbreviate(String s, int max) {
    String one = s.replace('\n', ' ');
    return "\"" + (one.length() <= max ? one : one.substring(0, max - 3) + "...") + "\"";
  }

  // ---------------------------------------------------------------- dead letters

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
        String when = j.finishedAt() == null ? "?" : Instant.ofEpochMilli(j.finishedAt()).toString();
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

  private static int purgeDead(CliContext ctx, boolean yes, boolean json) throws IOException {
    try (QueueSession s = QueueSession.open(ctx)) {
      long count = s.await(s.queue.deadCount());
      if (count == 0) {
        ctx.out().println(json ? new JsonObject().put("purged", 0).encode() : "No dead-lettered jobs.");
        return ExitCodes.OK;
      }
      if (!yes) {
        // the question goes to stderr, so --json output stays one clean object
        ctx.err().print("Delete " + count + " dead-lettered job" + (count == 1 ? "" : "s")
            + " for good (records and images; 'jobs retry' cannot bring them back)? [y/N] ");
        ctx.err().flush();
        String answer = new BufferedReader(new InputStreamReader(ctx.in(), StandardCharsets.UTF_8)).readLine();
        if (answer == null || !List.of("y", "yes").contains(answer.strip().toLowerCase(Locale.ROOT))) {
          ctx.err().println(answer == null ? "\nNo answer: nothing deleted (use --yes when nobody can answer)." : "Nothing deleted.");
          return ExitCodes.FAILED;
        }
      }
      int purged = s.await(s.queue.purgeDead());
      ctx.out().println(json ? new JsonObject().put("purged", purged).encode()
          : "Deleted " + purged + " dead-lettered job" + (purged == 1 ? "" : "s") + ".");
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
