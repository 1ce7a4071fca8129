package io.qwenedit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qwenedit.queue.QueueResults.Running;
import io.qwenedit.queue.QueueResults.Snapshot;
import io.qwenedit.testing.RedisServerExtension;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** What {@code status} tells an operator about workers in trouble, and {@code --watch}. */
class StatusCommandTest {
  @RegisterExtension
  static final RedisServerExtension REDIS = new RedisServerExtension();

  @TempDir
  Path dir;

  @Test
  void aWorkerInTroubleIsExplainedInWords() {
    long now = 1_800_000_000_000L;
    JsonObject worker = new JsonObject().put("id", "gpu-host-1").put("host", "gpu-host-1").put("pid", 42).put("version", "0.1.0")
        .put("started_at", now - 3 * 86_400_000L - 4 * 3_600_000L).put("redis_ok", true).put("live", false)
        .put("not_live_reason", "verticle poller was redeployed 5 times in 300 s and still does not progress")
        .put("gpus", new JsonArray()
            .add(new JsonObject().put("name", "gpu0").put("url", "http://127.0.0.1:8188").put("state", "wedged").put("health", "WEDGED")
                .put("health_detail", "http://127.0.0.1:8188 answers but is wedged: 1 prompt queued").put("lock", "held"))
            .add(new JsonObject().put("name", "gpu1").put("url", "http://127.0.0.1:8189").put("state", "locked-elsewhere")
                .put("health", "HEALTHY").put("lock", "other")))
        .put("verticles", new JsonArray()
            .add(new JsonObject().put("name", "arbiter").put("status", "ok").put("redeploys", 0))
            .add(new JsonObject().put("name", "poller").put("status", "ko").put("redeploys", 5).put("problem", "no progress for 9000 ms (due within 7000 ms)"))
            .add(new JsonObject().put("name", "reaper").put("status", "starting").put("redeploys", 0)));
    Snapshot s = new Snapshot(3, 1, List.of(new Running("3kq9z0d1v7x2a", "gpu-host-1", "gpu0", now - 12_000, now + 40_000,
        new JsonObject().put("value", 8).put("max", 20))), 2, new JsonObject().put("enqueued", 10), new JsonArray().add(worker),
        new JsonArray()
            .add(new JsonObject().put("id", "tg-main-0a1b2c").put("role", "bot").put("host", "bot-host").put("pid", 7)
                .put("started_at", now - 120_000).put("mode", "polling").put("active", true))
            .add(new JsonObject().put("id", "tg-spare-3d4e5f").put("role", "bot").put("host", "bot-host-2").put("pid", 8)
                .put("started_at", now - 60_000).put("mode", "polling").put("active", false)), now);
    String text = StatusCommand.render(s, "redis-host:6379/0");
    assertTrue(text.contains("3 waiting (+1 retrying soon), 1 running, 2 dead letters"), text);
    assertTrue(text.contains("running  3kq9z0d1v7x2a on gpu-host-1 (gpu0), 12 s, step 8/20"), text);
    assertTrue(text.contains("'jobs dead' lists them"), text);
    assertTrue(text.contains("up 3 d 4 h"), text);
    assertTrue(text.contains("NOT LIVE (its process manager should restart it): verticle poller was redeployed"), text);
    assertTrue(text.contains("gpu0   wedged") && text.contains("answers but is wedged"), text);
    assertTrue(text.contains("gpu1   locked-elsewhere") && text.contains("held by another worker (two workers point at this ComfyUI)"), text);
    assertTrue(text.contains("verticles ok: arbiter; starting: reaper"), text);
    assertTrue(text.contains("verticle  NOT OK poller (redeployed 5x): no progress for 9000 ms"), text);
    assertTrue(text.contains("Bot        2 running"), text);
    assertTrue(text.contains("tg-main-0a1b2c (on bot-host, pid 7, up 2 min 0 s) - active, polling"), text);
    assertTrue(text.contains("tg-spare-3d4e5f (on bot-host-2, pid 8, up 1 min 0 s) - standby"), text);
    assertTrue(text.contains("API        none running (if this deployment has the HTTP API, it is down)"), text);
    assertTrue(text.contains("Bot        2 running\n"), "one active, no warning: " + text);
    assertEquals("redis-host:6379/0", StatusCommand.toJson(s, "redis-host:6379/0").getString("redis"));
    assertEquals(2, StatusCommand.toJson(s, "redis-host:6379/0").getJsonArray("services").size());
  }

  @Test
  void watchRefreshesUntilTheCountAndJsonGivesOneObjectPerLine() {
    Map<String, String> env = Map.of("REDIS_URL", REDIS.url(), "REDIS_CONNECT_TIMEOUT", "1s");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int code = Main.run(List.of("status", "--watch", "--interval", "0.1", "--count", "3"), new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), env, dir, false);
    assertEquals(0, code);
    String text = out.toString(StandardCharsets.UTF_8);
    assertEquals(3, text.split("qwenedit status at ", -1).length - 1, text);

    ByteArrayOutputStream json = new ByteArrayOutputStream();
    code = Main.run(List.of("status", "--watch", "--json", "--interval", "0.1", "--count", "2"), new PrintStream(json, true, StandardCharsets.UTF_8),
        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), env, dir, false);
    assertEquals(0, code);
    List<String> lines = json.toString(StandardCharsets.UTF_8).lines().toList();
    assertEquals(2, lines.size(), lines.toString());
    lines.forEach(l -> assertEquals(0L, new JsonObject(l).getLong("queue_depth")));

    ByteArrayOutputStream err = new ByteArrayOutputStream();
    code = Main.run(List.of("status", "--count", "2"), new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), env, dir, false);
    assertEquals(2, code);
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("only make sense with --watch"));
  }
}
