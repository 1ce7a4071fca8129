package io.qwenedit.cli;

import static io.qwenedit.testing.Await.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qwenedit.emulator.ComfyEmulator;
import io.qwenedit.emulator.EmulatorOptions;
import io.qwenedit.redis.LocalRedisServer;
import io.qwenedit.testing.RedisServerExtension;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.qwenedit.telegram.TelegramStub;
import java.io.ByteArrayOutputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code doctor} reports each problem it checks for when that problem is made to happen (real Redis, the emulator). */
class DoctorTest {
  @RegisterExtension
  static final RedisServerExtension REDIS = new RedisServerExtension(true); // AOF on, noeviction: a healthy Redis

  private static Vertx vertx;
  private static ComfyEmulator comfy;
  private static ComfyEmulator comfyWithoutVae;

  @TempDir
  Path dir;

  record Result(int code, String out, String err) {
    JsonObject json() {
      return new JsonObject(out);
    }

    List<JsonObject> findings(String level) {
      List<JsonObject> out = new ArrayList<>();
      json().getJsonArray("findings").forEach(o -> {
        if (level.equals(((JsonObject) o).getString("level"))) {
          out.add((JsonObject) o);
        }
      });
      return out;
    }
  }

  @BeforeAll
  static void startComfy() {
    vertx = Vertx.vertx();
    comfy = await(ComfyEmulator.start(vertx, EmulatorOptions.fast()));
    comfyWithoutVae = await(ComfyEmulator.start(vertx, EmulatorOptions.fast().withoutModel("qwen_image_vae.safetensors")));
  }

  @AfterAll
  static void stopComfy() {
    await(vertx.close());
  }

  private Result doctor(Map<String, String> env, String... extra) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Map<String, String> e = new HashMap<>(env);
    e.putIfAbsent("REDIS_CONNECT_TIMEOUT", "1s");
    e.putIfAbsent("COMFYUI_REQUEST_TIMEOUT", "3s");
    List<String> args = new ArrayList<>(List.of("doctor"));
    args.addAll(List.of(extra));
    int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8), e, dir, false);
    return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void aHealthyDeploymentHasNothingThatMustBeFixed() {
    Result text = doctor(Map.of("REDIS_URL", REDIS.url(), "COMFYUI_URL", comfy.url()));
    assertEquals(0, text.code(), text.out() + text.err());
    assertTrue(text.out().contains("ok    configuration loads; every setting is valid"), text.out());
    assertTrue(text.out().contains("AOF persistence is on") && text.out().contains("maxmemory-policy is noeviction"), text.out());
    assertTrue(text.out().contains("ComfyUI 0.3.64 answers") || text.out().contains("answers ("), text.out());
    assertTrue(text.out().contains("free VRAM"), text.out());
    assertTrue(text.out().contains("every model file it names are there"), text.out());
    assertFalse(text.out().contains("FAIL"), text.out());
    // nothing runs jobs yet: worth saying, not a must
    assertTrue(text.out().contains("with no worker, queued jobs wait") && text.out().contains("Nothing must be fixed"), text.out());

    Result json = doctor(Map.of("REDIS_URL", REDIS.url(), "COMFYUI_URL", comfy.url()), "--json");
    assertEquals(0, json.code());
    assertTrue(json.json().getBoolean("ok"));
    assertEquals(0, json.json().getInteger("must_fix"));
    assertEquals(1, json.json().getInteger("should_fix"), json.out());
  }

  @Test
  void redisWithoutAofAndWithAnEvictingPolicyIsWarnedAbout() {
    try (LocalRedisServer loose = LocalRedisServer.start(LocalRedisServer.freePort(),
        List.of("--appendonly", "no", "--maxmemory", "100mb", "--maxmemory-policy", "allkeys-lru"))) {
      Result r = doctor(Map.of("REDIS_URL", loose.url(), "COMFYUI_URL", comfy.url()), "--json");
      assertEquals(0, r.code(), "warnings alone do not fail: " + r.out());
      List<JsonObject> warns = r.findings("warn");
      assertTrue(warns.stream().anyMatch(f -> f.getString("summary").startsWith("AOF persistence is off")
          && f.getString("fix").contains("CONFIG SET appendonly yes")), r.out());
      assertTrue(warns.stream().anyMatch(f -> f.getString("summary").contains("maxmemory-policy is allkeys-lru")
          && f.getString("summary").contains("queued jobs included") && f.getString("fix").contains("noeviction")), r.out());
      Result text = doctor(Map.of("REDIS_URL", loose.url(), "COMFYUI_URL", comfy.url()));
      assertTrue(text.out().contains("Worth fixing:") && text.out().contains("Fix: turn it on"), text.out());
    }
  }

  @Test
  void aComfyMissingAModelAndAnUnreachableComfyMustBeFixed() {
    String nowhere = "http://127.0.0.1:" + LocalRedisServer.freePort();
    Result r = doctor(Map.of("REDIS_URL", REDIS.url(), "COMFYUI_URLS", comfyWithoutVae.url() + "," + nowhere), "--json");
    assertEquals(1, r.code(), r.out());
    List<JsonObject> fails = r.findings("fail");
    assertEquals(2, fails.size(), r.out());
    JsonObject missing = fails.stream().filter(f -> f.getString("target").startsWith(comfyWithoutVae.url())).findFirst().orElseThrow();
    assertTrue(missing.getString("summary").contains("model file qwen_image_vae.safetensors (node 39 VAELoader, input vae_name) is not there"),
        missing.encode());
    assertTrue(missing.getString("fix").contains("models/vae/"), missing.encode());
    JsonObject unreachable = fails.stream().filter(f -> f.getString("target").startsWith(nowhere)).findFirst().orElseThrow();
    assertTrue(unreachable.getString("summary").contains("cannot be used"), unreachable.encode());
    assertTrue(unreachable.getString("fix").contains("COMFYUI_URL"), unreachable.encode());

    Result text = doctor(Map.of("REDIS_URL", REDIS.url(), "COMFYUI_URLS", comfyWithoutVae.url() + "," + nowhere));
    assertTrue(text.out().contains("Must fix:\n  1. "), text.out());
    assertTrue(text.out().contains("ComfyUI " + comfyWithoutVae.url() + " (gpu0)") && text.out().contains("(gpu1)"), text.out());
  }

  @Test
  void everyBadSettingIsReportedNotOnlyTheFirstAndTheRestIsStillChecked() {
    Result r = doctor(Map.of("REDIS_URL", REDIS.url(), "COMFYUI_URL", comfy.url(), "REDIS_PORT", "abc", "COMFYUI_TIMEOUT", "forever",
        "LOG_FORMAT", "xml"), "--json");
    assertEquals(1, r.code());
    List<String> problems = r.findings("fail").stream().map(f -> f.getString("summary")).toList();
    assertTrue(problems.stream().anyMatch(p -> p.startsWith("Invalid setting REDIS_PORT=\"abc\"")), problems.toString());
    assertTrue(problems.stream().anyMatch(p -> p.startsWith("Invalid setting COMFYUI_TIMEOUT=\"forever\"")), problems.toString());
    assertTrue(problems.stream().anyMatch(p -> p.startsWith("Invalid setting LOG_FORMAT=\"xml\"")), problems.toString());
    assertEquals(3, problems.size(), problems.toString());
    JsonArray all = r.json().getJsonArray("findings");
    assertTrue(all.stream().anyMatch(o -> ((JsonObject) o).getString("summary").contains("AOF persistence is on")),
        "Redis was still checked: " + r.out());
  }

  @Test
  void anUnreachableRedisMustBeFixed() {
    int port = LocalRedisServer.freePort();
    Result r = doctor(Map.of("REDIS_HOST", "127.0.0.1", "REDIS_PORT", String.valueOf(port), "COMFYUI_URL", comfy.url()));
    assertEquals(1, r.code());
    assertTrue(r.out().contains("FAIL  Redis at 127.0.0.1:" + port + "/0 cannot be used"), r.out());
    assertTrue(r.out().contains("Fix: start redis-server there"), r.out());
  }

  @Test
  void aBadTelegramTokenMustBeFixedAndAStrayWebhookIsWarnedAbout() throws Exception {
    try (TelegramStub telegram = TelegramStub.start()) {
      Map<String, String> base = Map.of("REDIS_URL", REDIS.url(), "COMFYUI_URL", comfy.url(), "TELEGRAM_API_URL", telegram.apiUrl().toString());
      Map<String, String> wrong = new HashMap<>(base);
      wrong.put("TELEGRAM_BOT_TOKEN", "7000000001:AAWrongTokenWrongTokenWrongToken");
      Result bad = doctor(wrong, "--json");
      assertEquals(1, bad.code(), bad.out());
      JsonObject fail = bad.findings("fail").get(0);
      assertEquals("telegram", fail.getString("area"));
      assertTrue(fail.getString("summary").contains("Telegram refused the token (401 Unauthorized)"), fail.encode());
      assertTrue(fail.getString("fix").contains("@BotFather"), fail.encode());
      assertFalse(bad.out().contains("AAWrongToken"), "the token is never printed: " + bad.out());

      Map<String, String> right = new HashMap<>(base);
      right.put("TELEGRAM_BOT_TOKEN", TelegramStub.TOKEN);
      Result good = doctor(right);
      assertEquals(0, good.code(), good.out());
      assertTrue(good.out().contains("the token is valid: bot @") && good.out().contains("no webhook is set"), good.out());

      HttpURLConnection c = (HttpURLConnection) URI.create(telegram.apiUrl() + "/bot" + TelegramStub.TOKEN
          + "/setWebhook?url=https://old-bot.example/hook").toURL().openConnection();
      assertEquals(200, c.getResponseCode());
      Result stray = doctor(right, "--json");
      assertEquals(0, stray.code(), stray.out());
      assertTrue(stray.findings("warn").stream().anyMatch(f -> f.getString("summary").contains("a webhook is set (https://old-bot.example/hook)")),
          stray.out());

      telegram.down();
      Result unreachable = doctor(right, "--json");
      assertEquals(1, unreachable.code());
      assertTrue(unreachable.findings("fail").get(0).getString("summary").contains("cannot be used"), unreachable.out());
    }
  }

  @Test
  void withoutATokenTelegramIsNotChecked() {
    Result r = doctor(Map.of("REDIS_URL", REDIS.url(), "COMFYUI_URL", comfy.url()));
    assertTrue(r.out().contains("TELEGRAM_BOT_TOKEN is not set"), r.out());
  }
}
