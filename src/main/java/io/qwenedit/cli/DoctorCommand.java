package io.qwenedit.cli;

import io.qwenedit.config.ConfigCheck;
import io.qwenedit.config.ConfigCheck.Diagnosis;
import io.qwenedit.doctor.Doctor;
import io.qwenedit.doctor.Finding;
import io.qwenedit.doctor.Finding.Level;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/** {@code doctor}: checks everything the deployment depends on and says, in plain words, what to fix. */
final class DoctorCommand implements Command {
  @Override
  public String name() {
    return "doctor";
  }

  @Override
  public String summary() {
    return "check the configuration, Redis, every ComfyUI and Telegram, and say what to fix";
  }

  @Override
  public String usage() {
    return """
        Usage: java -jar qwenedit.jar doctor [--json]

        Checks, from this host, with this host's settings:
          configuration  every setting (all problems, not only the first), unknown keys, the workflows
          Redis          reachable, version, AOF persistence (warns when off), maxmemory-policy (warns
                         when it can evict), and what the deployment holds (workers, queue, dead letters)
          ComfyUI        each of COMFYUI_URL(S): reachable, version, free VRAM, and the configured
                         workflow's node types and model files present (/object_info)
          Telegram       when TELEGRAM_BOT_TOKEN is set: the token (getMe) and the webhook state

        Prints what to fix, in plain words. How to read it: docs/operations.md.

        Options:
          --json   {"ok", "must_fix", "should_fix", "findings": [{"area", "target", "level":
                   ok|info|warn|fail, "summary", "fix"}]}

        Exit codes: 0 nothing must be fixed (warnings may remain), 1 something must be fixed.
        """;
  }

  @Override
  public Set<String> flagOptions() {
    return Set.of("json");
  }

  @Override
  public int run(Args args, CliContext ctx) throws Exception {
    args.noMorePositional(0);
    Diagnosis diagnosis = ConfigCheck.diagnose(ctx.workDir(), ctx.env(), ctx.configFile());
    long httpLimit = diagnosis.config() == null ? 5_000 : Math.min(10_000, diagnosis.config().comfy().requestTimeout().toMillis());
    Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true).setEventLoopPoolSize(1).setWorkerPoolSize(2));
    List<Finding> findings;
    try {
      findings = new Doctor(vertx, httpLimit).examine(diagnosis).await(2, TimeUnit.MINUTES);
    } finally {
      vertx.close().await(5, TimeUnit.SECONDS);
    }
    long mustFix = findings.stream().filter(f -> f.level() == Level.FAIL).count();
    long shouldFix = findings.stream().filter(f -> f.level() == Level.WARN).count();
    if (args.flag("json")) {
      JsonArray arr = new JsonArray();
      findings.forEach(f -> arr.add(f.toJson()));
      ctx.out().println(new JsonObject().put("ok", mustFix == 0).put("must_fix", mustFix).put("should_fix", shouldFix)
          .put("findings", arr).encodePrettily());
    } else {
      ctx.out().print(render(findings));
    }
    return mustFix == 0 ? ExitCodes.OK : ExitCodes.FAILED;
  }

  static String render(List<Finding> findings) {
    StringBuilder sb = new StringBuilder("qwenedit doctor: the configuration, Redis, every ComfyUI and Telegram, as this host sees them\n\n");
    Map<String, List<Finding>> groups = new LinkedHashMap<>();
    for (Finding f : findings) {
      groups.computeIfAbsent(heading(f), k -> new ArrayList<>()).add(f);
    }
    groups.forEach((heading, list) -> {
      sb.append(heading).append('\n');
      for (Finding f : list) {
        sb.append(String.format(Locale.ROOT, "  %-5s %s%n", label(f.level()), f.summary()));
      }
    });
    List<Finding> fails = findings.stream().filter(f -> f.level() == Level.FAIL).toList();
    List<Finding> warns = findings.stream().filter(f -> f.level() == Level.WARN).toList();
    sb.append('\n');
    if (!fails.isEmpty()) {
      sb.append("Must fix:\n");
      list(sb, fails);
    }
    if (!warns.isEmpty()) {
      sb.append(fails.isEmpty() ? "Worth fixing:\n" : "Worth fixing too:\n");
      list(sb, warns);
    }
    if (fails.isEmpty() && warns.isEmpty()) {
      sb.append("All good: nothing to fix.\n");
    } else if (fails.isEmpty()) {
      sb.append("Nothing must be fixed; the warnings above are risks worth removing.\n");
    }
    return sb.toString();
  }

  private static void list(StringBuilder sb, List<Finding> findings) {
    int n = 1;
    for (Finding f : findings) {
      sb.append(String.format(Locale.ROOT, "  %d. %s%n", n++, f.summary()));
      if (f.fix() != null) {
        sb.append("     Fix: ").append(f.fix()).append('\n');
      }
    }
  }

  private static String heading(Finding f) {
    String area = switch (f.area()) {
      case "configuration" -> "Configuration";
      case "redis" -> "Redis";
      case "comfyui" -> "ComfyUI";
      case "telegram" -> "Telegram";
      case "deployment" -> "Deployment";
      default -> f.area();
    };
    return area + (f.target() == null ? "" : " " + f.target());
  }

  private static String label(Level level) {
    return switch (level) {
      case OK -> "ok";
      case INFO -> "info";
      case WARN -> "WARN";
      case FAIL -> "FAIL";
    };
  }
}
