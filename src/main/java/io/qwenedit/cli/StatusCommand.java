package io.qwenedit.cli;

import io.qwenedit.queue.QueueResults.Running;
import io.qwenedit.queue.QueueResults.Snapshot;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * {@code status}: the whole deployment at a glance (queue, running jobs, dead letters, live workers with their GPUs
 * and the health of their verticles), once or refreshed in place with {@code --watch}.
 */
final class StatusCommand implements Command {
  private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneId.systemDefault());

  @Override
  public String name() {
    return "status";
  }

  @Override
  public String summary() {
    return "queue, running jobs, dead letters, workers, GPUs, bot and API instances across the deployment (--watch)";
  }

  @Override
  public String usage() {
    return """
        Usage: java -jar qwenedit.jar status [--json] [--watch [--interval SECONDS] [--count N]]

        Shows what the whole deployment is doing, read from Redis: jobs waiting, running (with
        worker, GPU, age and progress), dead letters, and every live worker with its GPUs (state,
        ComfyUI health, current job) and the health of its verticles as its supervisor sees them.
        How to read it: docs/operations.md.

        Options:
          --json              machine-readable; stable fields (docs/operations.md): queue_depth,
                              waiting, retrying, running (list), dead, workers (list), services
                              (list: bot and API instances), counters, redis, at. With --watch:
                              one JSON object per line.
          --watch             refresh in place until Ctrl+C
          --interval SECONDS  with --watch: time between refreshes (default 2)
          --count N           with --watch: stop after N refreshes
        """;
  }

  @Override
  public Set<String> valuedOptions() {
    return Set.of("interval", "count");
  }

  @Override
  public Set<String> flagOptions() {
    return Set.of("json", "watch");
  }

  @Override
  public int run(Args args, CliContext ctx) throws InterruptedException {
    args.noMorePositional(0);
    boolean json = args.flag("json");
    boolean watch = args.flag("watch");
    if (!watch && (args.get("interval") != null || args.get("count") != null)) {
      throw new UsageException("--interval and --count only make sense with --watch.");
    }
    double interval = args.seconds("interval", 2);
    int count = args.integer("count", 0, 1, Integer.MAX_VALUE);
    try (QueueSession s = QueueSession.open(ctx)) {
      String redis = s.config.redis().displayAddress();
      if (!watch) {
        Snapshot snap = s.await(s.queue.snapshot(s.workers, s.services));
        ctx.out().println(json ? toJson(snap, redis).encodePrettily() : render(snap, redis));
        return ExitCodes.OK;
      }
      for (int n = 1; count == 0 || n <= count; n++) {
        String frame;
        try {
          Snapshot snap = s.await(s.queue.snapshot(s.workers, s.services));
          frame = json ? toJson(snap, redis).encode() : render(snap, redis);
        } catch (RuntimeException e) {
          // keep watching: Redis coming back is exactly what an operator waits for here
          frame = json ? new JsonObject().put("error", Main.describe(e)).put("at", System.currentTimeMillis()).encode()
              : "Redis at " + redis + " cannot be read: " + Main.describe(e) + "\n(retrying every " + interval + " s)\n";
        }
        if (json) {
          ctx.out().println(frame);
        } else if (ctx.terminal() && ansi(ctx)) {
          ctx.out().print("\033[H\033[2J" + frame + "(refreshing every " + fmt(interval) + " s; Ctrl+C to stop)\n");
        } else {
          ctx.out().println(frame);
        }
        ctx.out().flush();
        if (count == 0 || n < count) {
          Thread.sleep((long) (interval * 1000));
        }
      }
      return ExitCodes.OK;
    }
  }

  /** Whether the terminal understands "clear screen" (a classic Windows console without Windows Terminal may not). */
  private static boolean ansi(CliContext ctx) {
    boolean windows = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("win");
    return !windows || ctx.env().containsKey("WT_SESSION") || ctx.env().containsKey("TERM");
  }

  static JsonObject toJson(Snapshot s, String redisAddress) {
    JsonArray running = new JsonArray();
    s.running().forEach(r -> running.add(r.toJson(s.at())));
    return new JsonObject()
        .put("queue_depth", s.queued() + s.delayed())
        .put("waiting", s.queued())
        .put("retrying", s.delayed())
        .put("running", running)
        .put("dead", s.dead())
        .put("workers", s.workers())
        .put("services", s.services())
        .put("counters", s.counters())
        .put("redis", redisAddress)
        .put("at", s.at());
  }

  static String render(Snapshot s, String redisAddress) {
    StringBuilder sb = new StringBuilder();
    sb.append("qwenedit status at ").append(CLOCK.format(Instant.ofEpochMilli(s.at()))).append(" (Redis ").append(redisAddress).append(")\n");
    sb.append(String.format(Locale.ROOT, "Queue      %d waiting%s, %d running, %d dead letter%s%n",
        s.queued(), s.delayed() > 0 ? " (+" + s.delayed() + " retrying soon)" : "", s.running().size(), s.dead(),
        s.dead() == 1 ? "" : "s"));
    for (Running r : s.running()) {
      double age = r.startedAt() == null ? 0 : (s.at() - r.startedAt()) / 1000.0;
      String progress = r.progress() != null && r.progress().getInteger("max", 0) > 0
          ? ", step " + r.progress().getInteger("value", 0) + "/" + r.progress().getInteger("max") : "";
      sb.append(String.format(Locale.ROOT, "  running  %s on %s%s, %s%s%n", r.id(), r.holder(),
          r.gpu() == null ? "" : " (" + r.gpu() + ")", duration(age), progress));
    }
    if (s.dead() > 0) {
      sb.append("  dead letters: 'jobs dead' lists them with their reasons; 'jobs retry ID' puts one back\n");
    }
    JsonArray workers = s.workers();
    sb.append(String.format(Locale.ROOT, "Workers    %d alive%s%n", workers.size(),
        workers.isEmpty() ? " - nothing will be processed until one starts" : ""));
    for (int i = 0; i < workers.size(); i++) {
      renderWorker(sb, workers.getJsonObject(i), s.at());
    }
    renderServices(sb, s.services(), s.at());
    if (!s.counters().isEmpty()) {
      sb.append("Totals     ");
      boolean first = true;
      for (String k : s.counters().fieldNames()) {
        sb.append(first ? "" : ", ").append(k).append(' ').append(s.counters().getValue(k));
        first = false;
      }
      sb.append('\n');
    }
    sb.append("Redis      ").append(redisAddress).append('\n');
    return sb.toString();
  }

  /** "  id (on host, pid N, version V, up T)" of a registry entry, without the line end. */
  private static void identity(StringBuilder sb, JsonObject w, long now) {
    sb.append("  ").append(w.getString("id"));
    List<String> about = new ArrayList<>();
    if (w.getString("host") != null) {
      about.add("on " + w.getString("host"));
    }
    if (w.getValue("pid") != null) {
      about.add("pid " + w.getValue("pid"));
    }
    if (w.getString("version") != null) {
      about.add("version " + w.getString("version"));
    }
    if (w.getValue("started_at") instanceof Number started) {
      about.add("up " + duration((now - started.longValue()) / 1000.0));
    }
    if (!about.isEmpty()) {
      sb.append(" (").append(String.join(", ", about)).append(')');
    }
  }

  /** The bot and API instances: which are up, where, and which bot instance is the active one. */
  private static void renderServices(StringBuilder sb, JsonArray services, long now) {
    for (String role : List.of("bot", "api")) {
      boolean bot = "bot".equals(role);
      List<JsonObject> mine = new ArrayList<>();
      for (int i = 0; i < services.size(); i++) {
        JsonObject e = services.getJsonObject(i);
        if (role.equals(e.getString("role"))) {
          mine.add(e);
        }
      }
      String label = bot ? "Bot" : "API";
      if (mine.isEmpty()) {
        sb.append(String.format(Locale.ROOT, "%-10s none running (if this deployment has %s, it is down)%n", label,
            bot ? "a Telegram bot" : "the HTTP API"));
        continue;
      }
      long active = mine.stream().filter(e -> Boolean.TRUE.equals(e.getValue("active"))).count();
      String note = !bot || active == 1 ? ""
          : active == 0 ? " - none active: nobody answers Telegram until one takes over (within the lease time)"
          : " - " + active + " show as active: one of them stopped without saying so (its entry expires within 35 s)";
      sb.append(String.format(Locale.ROOT, "%-10s %d running%s%n", label, mine.size(), note));
      for (JsonObject e : mine) {
        identity(sb, e, now);
        if (bot) {
          sb.append(Boolean.TRUE.equals(e.getValue("active")) ? " - active" : " - standby (takes over if the active one stops)");
          if (e.getString("mode") != null) {
            sb.append(", ").append(e.getString("mode"));
          }
        } else if (e.getValue("port") != null) {
          sb.append(" - port ").append(e.getValue("port"));
        }
        sb.append('\n');
      }
    }
  }

  private static void renderWorker(StringBuilder sb, JsonObject w, long now) {
    identity(sb, w, now);
    if (Boolean.FALSE.equals(w.getValue("redis_ok"))) {
      sb.append(" - its Redis probe is failing");
    }
    sb.append('\n');
    if (w.getString("error") != null) {
      sb.append("    ").append(w.getString("error")).append('\n');
      return;
    }
    if (Boolean.FALSE.equals(w.getValue("live"))) {
      sb.append("    NOT LIVE (its process manager should restart it): ").append(w.getString("not_live_reason", "?")).append('\n');
    }
    JsonArray gpus = w.getJsonArray("gpus", new JsonArray());
    for (int g = 0; g < gpus.size(); g++) {
      JsonObject gpu = gpus.getJsonObject(g);
      String health = gpu.getString("health", "?").toLowerCase(Locale.ROOT);
      sb.append(String.format(Locale.ROOT, "    %-6s %-9s ComfyUI %-11s %-22s %s%n", gpu.getString("name", "?"),
          gpu.getString("state", "?"), health, gpu.getString("job") == null ? "" : "job " + gpu.getString("job"),
          gpu.getString("url", "")));
      if (!"healthy".equals(health) && gpu.getString("health_detail") != null) {
        sb.append("           ").append(gpu.getString("health_detail")).append('\n');
      }
      if ("other".equals(gpu.getString("lock"))) {
        sb.append("           its GPU lock is held by another worker (two workers point at this ComfyUI)\n");
      }
    }
    JsonArray verticles = w.getJsonArray("verticles", new JsonArray());
    if (!verticles.isEmpty()) {
      List<String> ok = new ArrayList<>();
      List<String> starting = new ArrayList<>();
      List<String> bad = new ArrayList<>();
      for (int v = 0; v < verticles.size(); v++) {
        JsonObject vert = verticles.getJsonObject(v);
        long redeploys = vert.getLong("redeploys", 0L);
        String name = vert.getString("name", "?") + (redeploys > 0 ? " (redeployed " + redeploys + "x)" : "");
        if ("ok".equals(vert.getString("status"))) {
          ok.add(name);
        } else if ("starting".equals(vert.getString("status"))) {
          starting.add(name);
        } else {
          bad.add(name + ": " + vert.getString("problem", "not healthy"));
        }
      }
      sb.append("    verticles ").append(bad.isEmpty() && starting.isEmpty() ? "all ok: " : "ok: ").append(ok.isEmpty() ? "none" : String.join(", ", ok))
          .append(starting.isEmpty() ? "" : "; starting: " + String.join(", ", starting)).append('\n');
      bad.forEach(b -> sb.append("    verticle  NOT OK ").append(b).append('\n'));
    }
  }

  static String duration(double seconds) {
    long s = Math.max(0, Math.round(seconds));
    if (s < 60) {
      return s + " s";
    }
    if (s < 3600) {
      return (s / 60) + " min " + (s % 60) + " s";
    }
    if (s < 86_400) {
      return (s / 3600) + " h " + (s % 3600) / 60 + " min";
    }
    return (s / 86_400) + " d " + (s % 86_400) / 3600 + " h";
  }

  private static String fmt(double d) {
    return d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d);
  }
}
