package io.qwenedit.doctor;

import io.qwenedit.bot.TelegramApiException;
import io.qwenedit.bot.TelegramClient;
import io.qwenedit.comfy.workflow.Workflow;
import io.qwenedit.comfy.workflow.WorkflowCatalog;
import io.qwenedit.comfy.workflow.WorkflowMapping;
import io.qwenedit.config.BotConfig;
import io.qwenedit.config.Config;
import io.qwenedit.config.ConfigCheck.Diagnosis;
import io.qwenedit.config.ConfigException;
import io.qwenedit.metrics.JobMetrics;
import io.qwenedit.queue.JobQueue;
import io.qwenedit.queue.QueueResults.Snapshot;
import io.qwenedit.queue.Registry;
import io.qwenedit.redis.RedisCommands;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * What {@code doctor} checks, each check a list of {@link Finding}s: the configuration (every problem), Redis
 * (reachable, version, persistence, eviction policy, the deployment it holds), every ComfyUI (reachable, version,
 * free VRAM, the configured workflow's node types and model files present) and, when a token is set, Telegram.
 * It replaces the old guide's list of redis-cli and curl commands.
 */
public final class Doctor {
  static final String CONFIG = "configuration";
  static final String REDIS = "redis";
  static final String COMFY = "comfyui";
  static final String DEPLOYMENT = "deployment";
  static final String TELEGRAM = "telegram";

  private final Vertx vertx;
  private final long httpLimitMs;

  public Doctor(Vertx vertx, long httpLimitMs) {
    this.vertx = vertx;
    this.httpLimitMs = httpLimitMs;
  }

  /** Runs every check; never fails (a check that cannot run is itself a finding). */
  public Future<List<Finding>> examine(Diagnosis diagnosis) {
    List<Finding> findings = new ArrayList<>(configuration(diagnosis));
    Config config = diagnosis.config();
    if (config == null) {
      return Future.succeededFuture(findings);
    }
    WorkflowCatalog catalog = null;
    try {
      catalog = WorkflowCatalog.load(config.comfy().workflowsDir(), config.comfy().workflow());
      findings.add(Finding.ok(CONFIG, null, "workflows load: " + String.join(", ", catalog.names()) + " (jobs use "
          + catalog.defaultName() + " unless they name another)"));
    } catch (ConfigException e) {
      findings.add(Finding.fail(CONFIG, null, e.getMessage(), "correct the workflow files in " + config.comfy().workflowsDir()
          + " or COMFYUI_WORKFLOW (docs/comfyui.md); the worker does not start with a broken workflow"));
    }
    Workflow workflow = catalog == null ? null : catalog.defaultWorkflow();
    List<Future<List<Finding>>> checks = new ArrayList<>();
    checks.add(redis(config));
    List<URI> urls = config.comfy().urls();
    for (int i = 0; i < urls.size(); i++) {
      checks.add(comfy("gpu" + i, urls.get(i), workflow));
    }
    checks.add(telegram(config));
    return Future.join(checks).transform(ar -> {
      checks.forEach(f -> findings.addAll(f.succeeded() ? f.result()
          : List.of(Finding.fail("doctor", null, "a check could not run: " + f.cause(), null))));
      return Future.succeededFuture(findings);
    });
  }

  // ---------------------------------------------------------------- configuration

  static List<Finding> configuration(Diagnosis d) {
    List<Finding> out = new ArrayList<>();
    for (String p : d.problems()) {
      out.add(Finding.fail(CONFIG, null, p, "correct it in conf/config.json, .env or the environment (docs/configuration.md)"));
    }
    if (d.ok()) {
      out.add(Finding.ok(CONFIG, null, "configuration loads; every setting is valid"));
    } else if (d.config() != null) {
      out.add(Finding.info(CONFIG, null, "the checks below use the defaults in place of " + String.join(", ", d.badSettings())));
    }
    for (String w : d.warnings()) {
      out.add(Finding.warn(CONFIG, null, w, "remove it, or correct its spelling (every setting: docs/configuration.md, conf/.env.example)"));
    }
    return out;
  }

  // ---------------------------------------------------------------- Redis

  Future<List<Finding>> redis(Config config) {
    String where = config.redis().displayAddress();
    RedisCommands redis = new RedisCommands(vertx, config.redis(), "doctor");
    List<Finding> out = new ArrayList<>();
    return redis.send(Command.PING)
        .compose(pong -> redis.batch(List.of(Request.cmd(Command.INFO).arg("server"), Request.cmd(Command.INFO).arg("persistence"),
            Request.cmd(Command.INFO).arg("memory"))))
        .compose(infos -> {
          Map<String, String> info = new LinkedHashMap<>();
          infos.forEach(r -> info.putAll(parseInfo(r.toString())));
          out.addAll(redisFindings(where, info));
          JobQueue queue = new JobQueue(redis, config.queue());
          return queue.snapshot(Registry.workers(redis, queue.keys())).map(s -> {
            out.addAll(deployment(s));
            return out;
          });
        })
        .recover(err -> {
          out.add(Finding.fail(REDIS, where, "Redis at " + where + " cannot be used: " + message(err),
              "start redis-server there, or point REDIS_URL (or REDIS_HOST/REDIS_PORT/REDIS_DB) at your Redis;"
                  + " check REDIS_PASSWORD if it needs one"));
          return Future.succeededFuture(out);
        })
        .eventually(redis::close);
  }

  static Map<String, String> parseInfo(String text) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String line : text.split("\r?\n")) {
      int colon = line.indexOf(':');
      if (colon > 0 && !line.startsWith("#")) {
        out.put(line.substring(0, colon), line.substring(colon + 1).strip());
      }
    }
    return out;
  }

  /** Verdicts on INFO server + persistence + memory (pure; tested without a server). */
  static List<Finding> redisFindings(String where, Map<String, String> info) {
    List<Finding> out = new ArrayList<>();
    String version = info.getOrDefault("redis_version", "?");
    int[] v = version(version);
    String used = info.getOrDefault("used_memory_human", "?");
    if (v[0] < 5) {
      out.add(Finding.fail(REDIS, where, "Redis " + version + " is too old: the queue needs commands of Redis 5 (BZPOPMIN)",
          "upgrade Redis to 6.2 or newer"));
    } else if (v[0] == 5 || (v[0] == 6 && v[1] < 2)) {
      out.add(Finding.warn(REDIS, where, "Redis " + version + " answers; qwenedit is tested with Redis 6.2 and newer",
          "upgrade Redis to 6.2 or newer when you can"));
    } else {
      out.add(Finding.ok(REDIS, where, "Redis " + version + " answers at " + where + " (" + used + " used)"));
    }
    boolean aof = "1".equals(info.get("aof_enabled"));
    if (!aof) {
      out.add(Finding.warn(REDIS, where, "AOF persistence is off: if Redis restarts, jobs queued since its last snapshot are lost",
          "turn it on: redis-cli CONFIG SET appendonly yes, and put 'appendonly yes' and 'appendfsync everysec' in redis.conf"));
    } else {
      out.add(Finding.ok(REDIS, where, "AOF persistence is on"));
    }
    String policy = info.getOrDefault("maxmemory_policy", "?");
    long maxmemory = parseLong(info.get("maxmemory"));
    if (!"noeviction".equals(policy) && !"?".equals(policy)) {
      String when = maxmemory > 0 ? "when it reaches maxmemory (" + info.getOrDefault("maxmemory_human", maxmemory + " bytes") + ")"
          : "as soon as a maxmemory limit is set";
      String what = policy.startsWith("allkeys") ? "any key, queued jobs included: a lost request"
          : "keys with a time-to-live: finished jobs and their results, possibly before they were delivered";
      out.add(Finding.warn(REDIS, where, "maxmemory-policy is " + policy + ": Redis evicts " + what + ", " + when,
          "set it to noeviction: redis-cli CONFIG SET maxmemory-policy noeviction, and 'maxmemory-policy noeviction' in redis.conf"
              + " (a full Redis then refuses new jobs with a clear error instead of losing old ones)"));
    } else if ("noeviction".equals(policy)) {
      out.add(Finding.ok(REDIS, where, "maxmemory-policy is noeviction: nothing is ever evicted"
          + (maxmemory > 0 ? " (maxmemory " + info.getOrDefault("maxmemory_human", String.valueOf(maxmemory)) + ")" : "")));
    }
    return out;
  }

  static List<Finding> deployment(Snapshot s) {
    List<Finding> out = new ArrayList<>();
    long gpus = 0;
    for (int i = 0; i < s.workers().size(); i++) {
      gpus += s.workers().getJsonObject(i).getJsonArray("gpus", new JsonArray()).size();
    }
    String summary = s.workers().size() + " worker(s) alive with " + gpus + " GPU(s); " + s.queued() + " job(s) waiting, "
        + s.running().size() + " running, " + s.dead() + " dead letter(s)";
    if (s.workers().isEmpty()) {
      out.add(Finding.warn(DEPLOYMENT, null, summary + ": with no worker, queued jobs wait",
          "start a worker on each GPU host: java -jar qwenedit.jar worker (docs/operations.md)"));
    } else {
      out.add(Finding.ok(DEPLOYMENT, null, summary));
    }
    if (s.dead() > 0) {
      out.add(Finding.info(DEPLOYMENT, null, s.dead() + " dead-lettered job(s): 'jobs dead' shows why they died, 'jobs retry ID' puts one back"));
    }
    return out;
  }

  private static int[] version(String v) {
    String[] parts = v.split("\\.");
    int[] out = new int[] {0, 0};
    for (int i = 0; i < 2 && i < parts.length; i++) {
      out[i] = (int) parseLong(parts[i]);
    }
    return out;
  }

  private static long parseLong(String s) {
    try {
      return s == null ? 0 : Long.parseLong(s.strip());
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  // ---------------------------------------------------------------- Telegram

  Future<List<Finding>> telegram(Config config) {
    BotConfig bot = config.bot();
    String target = String.valueOf(bot.apiUrl());
    if (bot.token() == null || bot.token().isBlank()) {
      return Future.succeededFuture(List.of(Finding.info(TELEGRAM, null,
          "TELEGRAM_BOT_TOKEN is not set: no bot runs from this configuration (fine on a host that runs no bot)")));
    }
    try {
      bot.requireToken();
    } catch (ConfigException e) {
      return Future.succeededFuture(List.of(Finding.fail(TELEGRAM, target, e.getMessage(),
          "copy the token @BotFather gave you (it looks like 123456789:AA...) into TELEGRAM_BOT_TOKEN")));
    }
    TelegramClient client = new TelegramClient(vertx, bot, JobMetrics.of(vertx), 1, httpLimitMs);
    List<Finding> out = new ArrayList<>();
    return client.call("getMe", new JsonObject(), httpLimitMs)
        .compose(me -> {
          JsonObject user = me instanceof JsonObject j ? j : new JsonObject();
          out.add(Finding.ok(TELEGRAM, target, "the token is valid: bot @" + user.getString("username", "?") + " (id "
              + user.getValue("id", "?") + ")"));
          return client.call("getWebhookInfo", new JsonObject(), httpLimitMs);
        })
        .map(info -> {
          out.addAll(webhook(target, bot, info instanceof JsonObject j ? j : new JsonObject()));
          return out;
        })
        .recover(err -> {
          if (err instanceof TelegramApiException t && t.unauthorized()) {
            out.add(Finding.fail(TELEGRAM, target, "Telegram refused the token (401 Unauthorized): it is wrong or was revoked",
                "get the current token from @BotFather (/mybots, API Token) and put it in TELEGRAM_BOT_TOKEN"));
          } else {
            out.add(Finding.fail(TELEGRAM, target, "the Telegram Bot API at " + target + " cannot be used: " + message(err),
                "check that this host can reach " + target + " over HTTPS (proxy, firewall), or correct TELEGRAM_API_URL"));
          }
          return Future.succeededFuture(out);
        })
        .eventually(() -> {
          client.close();
          return Future.succeededFuture();
        });
  }

  /** Verdicts on getWebhookInfo for the configured mode (pure; tested without a server). */
  static List<Finding> webhook(String target, BotConfig bot, JsonObject info) {
    List<Finding> out = new ArrayList<>();
    String url = info.getString("url", "");
    long pending = info.getLong("pending_update_count", 0L);
    if (!bot.webhook()) {
      if (!url.isEmpty()) {
        out.add(Finding.warn(TELEGRAM, target, "a webhook is set (" + url + ") but BOT_MODE is polling: the bot deletes it when"
                + " it starts, and if another program set it, the two will keep taking updates from each other (409 Conflict)",
            "make sure no other program (an old bot?) uses this token; or run the bot with BOT_MODE=webhook"));
      } else {
        out.add(Finding.ok(TELEGRAM, target, "no webhook is set: long polling (BOT_MODE=polling) will get the updates"
            + (pending > 0 ? "; " + pending + " update(s) waiting" : "")));
      }
    } else {
      String wanted = String.valueOf(bot.webhookUrl());
      if (url.isEmpty()) {
        out.add(Finding.info(TELEGRAM, target, "no webhook is set yet: the bot sets " + wanted + " when it starts"));
      } else if (!url.equals(wanted)) {
        out.add(Finding.warn(TELEGRAM, target, "the webhook points at " + url + ", not at BOT_WEBHOOK_URL " + wanted,
            "start the bot (it sets its webhook), or check that no other program uses this token"));
      } else {
        out.add(Finding.ok(TELEGRAM, target, "the webhook is set to " + url));
      }
      if (info.getString("last_error_message") != null) {
        out.add(Finding.warn(TELEGRAM, target, "Telegram's last delivery to the webhook failed: " + info.getString("last_error_message"),
            "make BOT_WEBHOOK_URL reachable from the internet over HTTPS with a valid certificate (docs/bot.md)"));
      }
    }
    if (pending > 100) {
      out.add(Finding.warn(TELEGRAM, target, pending + " updates are waiting at Telegram: the bot is not taking them",
          "start the bot, or look at its log (logs/bot.log) and its readiness (bot/poll)"));
    }
    return out;
  }

  // ---------------------------------------------------------------- ComfyUI

  Future<List<Finding>> comfy(String gpu, URI url, Workflow workflow) {
    String base = url.toString().endsWith("/") ? url.toString().substring(0, url.toString().length() - 1) : url.toString();
    String target = base + " (" + gpu + ")";
    WebClient client = WebClient.create(vertx, new WebClientOptions().setConnectTimeout((int) Math.min(httpLimitMs, 5_000))
        .setUserAgent("qwenedit-doctor"));
    List<Finding> out = new ArrayList<>();
    return getJson(client, base + "/system_stats")
        .compose(stats -> {
          out.add(systemStats(target, stats));
          if (workflow == null) {
            return Future.succeededFuture(out);
          }
          return models(client, base, target, workflow).map(found -> {
            out.addAll(found);
            return out;
          });
        })
        .recover(err -> {
          out.add(Finding.fail(COMFY, target, "ComfyUI at " + base + " cannot be used: " + message(err),
              "start ComfyUI there (with --listen if it runs on another host), or correct COMFYUI_URL / COMFYUI_URLS"));
          return Future.succeededFuture(out);
        })
        .eventually(() -> {
          client.close();
          return Future.succeededFuture();
        });
  }

  static Finding systemStats(String target, JsonObject stats) {
    JsonObject system = stats.getJsonObject("system", new JsonObject());
    String version = system.getString("comfyui_version", "unknown version");
    JsonArray devices = stats.getJsonArray("devices", new JsonArray());
    String vram = "no GPU reported";
    if (!devices.isEmpty() && devices.getValue(0) instanceof JsonObject d && d.getValue("vram_total") instanceof Number total) {
      Number free = d.getValue("vram_free") instanceof Number f ? f : 0;
      vram = String.format(Locale.ROOT, "%s, free VRAM %.1f of %.1f GiB", d.getString("name", "device 0"),
          free.doubleValue() / (1L << 30), total.doubleValue() / (1L << 30));
    }
    return Finding.ok(COMFY, target, "ComfyUI " + version + " answers (" + vram + ")");
  }

  private Future<List<Finding>> models(WebClient client, String base, String target, Workflow workflow) {
    JsonObject graph = workflow.template();
    Map<String, JsonObject> info = new LinkedHashMap<>();
    List<Future<?>> lookups = new ArrayList<>();
    for (String cls : WorkflowModels.classes(graph)) {
      lookups.add(getJson(client, base + "/object_info/" + cls).onSuccess(j -> info.put(cls, j.getJsonObject(cls))));
    }
    return Future.all(lookups).map(x -> {
      Set<String> skip = new HashSet<>();
      for (String role : List.of(WorkflowMapping.IMAGE, WorkflowMapping.PROMPT, WorkflowMapping.SEED, WorkflowMapping.STEPS,
          WorkflowMapping.FILENAME_PREFIX)) {
        Workflow.NodeInput t = workflow.target(role);
        if (t != null) {
          skip.add(t.node() + "/" + t.input());
        }
      }
      List<Finding> out = new ArrayList<>();
      List<WorkflowModels.Gap> gaps = WorkflowModels.compare(graph, skip, info);
      for (WorkflowModels.Gap g : gaps) {
        out.add(Finding.fail(COMFY, target, "workflow " + workflow.name() + ": " + g.describe() + " on ComfyUI at " + base
            + (g.modelFile() || g.missingNodeType() ? "; every job would fail with invalid_workflow" : ""), g.fix()));
      }
      if (gaps.isEmpty()) {
        out.add(Finding.ok(COMFY, target, "workflow " + workflow.name() + ": its " + info.size()
            + " node types and every model file it names are there"));
      }
      return out;
    });
  }

  private Future<JsonObject> getJson(WebClient client, String url) {
    return client.getAbs(url).timeout(httpLimitMs).send()
        .timeout(httpLimitMs + 1_000, TimeUnit.MILLISECONDS)
        .compose(r -> json(url, r));
  }

  private static Future<JsonObject> json(String url, HttpResponse<Buffer> r) {
    if (r.statusCode() != 200) {
      return Future.failedFuture("GET " + url + " answered " + r.statusCode() + " (is this a ComfyUI server?)");
    }
    try {
      return Future.succeededFuture(r.bodyAsJsonObject());
    } catch (RuntimeException e) {
      return Future.failedFuture("GET " + url + " answered something that is not JSON (is this a ComfyUI server?)");
    }
  }

  static String message(Throwable err) {
    Throwable t = err;
    while (t.getCause() != null && (t.getMessage() == null || t.getMessage().isBlank())) {
      t = t.getCause();
    }
    String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    String lower = m.toLowerCase(Locale.ROOT);
    if (lower.contains("connection refused")) {
      return "connection refused (nothing listens there)";
    }
    if (t instanceof java.net.UnknownHostException || lower.contains("failed to resolve") || lower.contains("unknownhost")) {
      return "unknown host name (" + m.lines().findFirst().orElse(m) + ")";
    }
    if (t instanceof java.util.concurrent.TimeoutException || lower.contains("timed out") || lower.contains("timeout")) {
      return "no answer in time (" + m.lines().findFirst().orElse(m) + ")";
    }
    return m.lines().findFirst().orElse(m);
  }
}
