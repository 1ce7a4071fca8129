package io.qwenedit.cli;

import io.qwenedit.queue.QueueResults.Running;
import io.qwenedit.queue.QueueResults.Snapshot;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Locale;
import java.util.Set;

/** {@code status}: the whole deployment at a glance (queue, running jobs, dead letters, live workers). */
final class StatusCommand implements Command {
  @Override
  public String name() {
    return "status";
  }

  @Override
  public String summary() {
    return "queue depth, running jobs, dead letters and live workers across the deployment";
  }

  @Override
  public String usage() {
    return """
        Usage: java -jar qwenedit.jar status [--json]

        Shows what the whole deployment is doing, read from Redis: jobs waiting, running
        (with worker, GPU, age and progress), dead letters, and the workers that are alive.

        Options:
          --json   machine-readable; stable fields: queue_depth, waiting, retrying, running (list),
                   dead, workers (list), counters (deployment totals), at
        """;
  }

  @Override
  public Set<String> valuedOptions() {
    return Set.of();
  }

  @Override
  public Set<String> flagOptions() {
    return Set.of("json");
  }

  @Override
  public int run(Args args, CliContext ctx) {
    args.noMorePositional(0);
    try (QueueSession s = QueueSession.open(ctx)) {
      Snapshot snap = s.await(s.queue.snapshot(s.workers));
      if (args.flag("json")) {
        ctx.out().println(toJson(snap).encodePrettily());
      } else {
        ctx.out().print(render(snap, s.config.redis().displayAddress()));
      }
      return ExitCodes.OK;
    }
  }

  static JsonObject toJson(Snapshot s) {
    JsonArray running = new JsonArray();
    s.running().forEach(r -> running.add(r.toJson(s.at())));
    return new JsonObject()
        .put("queue_depth", s.queued() + s.delayed())
        .put("waiting", s.queued())
        .put("retrying", s.delayed())
        .put("running", running)
        .put("dead", s.dead())
        .put("workers", s.workers())
        .put("counters", s.counters())
        .put("at", s.at());
  }

  static String render(Snapshot s, String redisAddress) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "Queue      %d waiting%s, %d running, %d dead letter%s%n",
        s.queued(), s.delayed() > 0 ? " (+" + s.delayed() + " retrying soon)" : "", s.running().size(), s.dead(),
        s.dead() == 1 ? "" : "s"));
    for (Running r : s.running()) {
      double age = r.startedAt() == null ? 0 : (s.at() - r.startedAt()) / 1000.0;
      String progress = r.progress() != null && r.progress().getInteger("max", 0) > 0
          ? ", step " + r.progress().getInteger("value", 0) + "/" + r.progress().getInteger("max") : "";
      sb.append(String.format(Locale.ROOT, "  running  %s on %s%s, %.0f s%s%n", r.id(), r.holder(),
          r.gpu() == null ? "" : " (" + r.gpu() + ")", age, progress));
    }
    JsonArray workers = s.workers();
    sb.append(String.format(Locale.ROOT, "Workers    %d alive%s%n", workers.size(), workers.isEmpty() ? " - nothing will be processed until one starts" : ""));
    for (int i = 0; i < workers.size(); i++) {
      JsonObject w = workers.getJsonObject(i);
      sb.append("  ").append(w.getString("id"));
      if (w.getString("host") != null) {
        sb.append(" on ").append(w.getString("host"));
      }
      JsonArray gpus = w.getJsonArray("gpus");
      if (gpus != null) {
        sb.append(", GPUs: ");
        for (int g = 0; g < gpus.size(); g++) {
          JsonObject gpu = gpus.getJsonObject(g);
          sb.append(g == 0 ? "" : ", ").append(gpu.getString("name", "?")).append(" ").append(gpu.getString("state", "?"));
        }
      }
      sb.append('\n');
    }
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
}
