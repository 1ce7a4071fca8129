package io.qwenedit.health;

import static io.qwenedit.testing.Await.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.util.concurrent.EventExecutor;
import io.qwenedit.api.ApiRole;
import io.qwenedit.config.Config;
import io.qwenedit.metrics.Meters;
import io.qwenedit.redis.LocalRedisServer;
import io.qwenedit.testing.Await;
import io.qwenedit.testing.RedisServerExtension;
import io.qwenedit.testing.TestConfigs;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * /health/live and /health/ready as a load balancer sees them, on the health port and on the API port: Redis going
 * away and coming back, a hung check, a process declared stuck, a blocked event loop.
 */
class HealthTest {
  @RegisterExtension
  static final RedisServerExtension REDIS = new RedisServerExtension();

  private Vertx vertx;
  private Vertx clientVertx;
  private WebClient http;
  private Config config;

  @AfterEach
  void stop() {
    if (http != null) {
      http.close();
    }
    if (vertx != null) {
      await(vertx.close(), Duration.ofSeconds(20));
    }
    if (clientVertx != null) {
      await(clientVertx.close());
    }
  }

  /** A service Vert.x running the API role (which brings the health server) on free ports. */
  private void startApi(String... overrides) {
    int apiPort = LocalRedisServer.freePort();
    int healthPort = LocalRedisServer.freePort();
    List<String> all = new ArrayList<>(List.of("HTTP_HOST", "127.0.0.1", "HTTP_PORT", String.valueOf(apiPort),
        "HEALTH_HOST", "127.0.0.1", "HEALTH_PORT", String.valueOf(healthPort), "HEALTH_CHECK_TIMEOUT", "500ms",
        "REDIS_COMMAND_TIMEOUT", "500ms"));
    all.addAll(List.of(overrides));
    config = TestConfigs.config(REDIS.url(), all.toArray(String[]::new));
    vertx = Meters.vertxWithMetrics(new VertxOptions());
    await(ApiRole.deploy(vertx, config), Duration.ofSeconds(20));
    clientVertx = Vertx.vertx();
    http = WebClient.create(clientVertx, new WebClientOptions().setDefaultHost("127.0.0.1").setKeepAlive(false));
  }

  private HttpResponse<Buffer> get(int port, String path) {
    return await(http.get(port, "127.0.0.1", path).timeout(10_000).send());
  }

  private static JsonObject check(JsonObject report, String id) {
    JsonArray checks = report.getJsonArray("checks");
    for (int i = 0; checks != null && i < checks.size(); i++) {
      JsonObject c = checks.getJsonObject(i);
      if (id.equals(c.getString("id"))) {
        return c;
      }
      JsonObject nested = check(c, id.startsWith(c.getString("id") + "/") ? id.substring(c.getString("id").length() + 1) : "\0");
      if (nested != null) {
        return nested;
      }
    }
    return null;
  }

  private void awaitReady(int port) {
    Await.until("ready answers 200", Duration.ofSeconds(20), () -> get(port, "/health/ready").statusCode() == 200);
  }

  @Test
  void readyIs200WithTheRedisClientsThisProcessUses() {
    startApi();
    awaitReady(config.health().port());
    HttpResponse<Buffer> r = get(config.api().port(), "/health/ready");
    assertEquals(200, r.statusCode(), r.bodyAsString());
    JsonObject report = r.bodyAsJsonObject();
    assertEquals("UP", report.getString("status"));
    JsonObject api = check(report, "redis/api");
    assertNotNull(api, report.encode());
    assertEquals("UP", api.getString("status"));
    assertTrue(api.getJsonObject("data").containsKey("latency_ms"), api.encode());
    assertEquals("UP", check(report, "redis/api-events").getString("status"));
    // One group on its own, and an unknown one.
    assertEquals(200, get(config.health().port(), "/health/ready/redis").statusCode());
    HttpResponse<Buffer> unknown = get(config.health().port(), "/health/ready/nope");
    assertEquals(404, unknown.statusCode());
    assertEquals("no_such_check", unknown.bodyAsJsonObject().getJsonObject("error").getString("code"));
  }

  @Test
  void readyTurns503WhenRedisStopsAnd200WhenItIsBackWithoutARestart() {
    startApi();
    int port = config.health().port();
    awaitReady(port);
    REDIS.server().kill();
    long killed = System.nanoTime();
    Await.until("ready answers 503", Duration.ofSeconds(5), () -> get(port, "/health/ready").statusCode() == 503);
    long tookMs = (System.nanoTime() - killed) / 1_000_000;
    JsonObject report = get(port, "/health/ready").bodyAsJsonObject();
    assertEquals("DOWN", report.getString("status"));
    assertEquals("DOWN", check(report, "redis/api").getString("status"), report.encode());
    assertTrue(tookMs < 5000, "noticed within " + tookMs + " ms");
    // Liveness does not depend on Redis: restarting the process would not bring Redis back.
    assertEquals(200, get(port, "/health/live").statusCode());

    REDIS.server().restart();
    Await.until("ready answers 200 again", Duration.ofSeconds(20), () -> get(port, "/health/ready").statusCode() == 200);
    assertEquals("UP", check(get(port, "/health/ready").bodyAsJsonObject(), "redis/api-events").getString("status"));
  }

  @Test
  void aCheckThatNeverAnswersFailsWithinItsTimeLimitAndTheEndpointAnswers() {
    startApi();
    awaitReady(config.health().port());
    Health.of(vertx).readiness().register("test/hung", 300, promise -> {
      // never completes: a dependency that hangs
    });
    long started = System.nanoTime();
    HttpResponse<Buffer> r = get(config.health().port(), "/health/ready");
    long tookMs = (System.nanoTime() - started) / 1_000_000;
    assertEquals(503, r.statusCode(), r.bodyAsString());
    assertTrue(tookMs < 3000, "answered in " + tookMs + " ms, not hung");
    JsonObject report = r.bodyAsJsonObject();
    assertEquals("DOWN", check(report, "test/hung").getString("status"), report.encode());
    assertEquals("UP", check(report, "redis/api").getString("status"), "the other checks still report: " + report.encode());
    Health.of(vertx).readiness().unregister("test/hung");
    assertEquals(200, get(config.health().port(), "/health/ready").statusCode());
  }

  @Test
  void liveIs200UntilTheProcessIsDeclaredStuck() {
    startApi();
    HttpResponse<Buffer> ok = get(config.health().port(), "/health/live");
    assertEquals(200, ok.statusCode(), ok.bodyAsString());
    JsonObject loops = check(ok.bodyAsJsonObject(), "event-loops");
    assertEquals("UP", loops.getString("status"));
    assertEquals(loops.getJsonObject("data").getInteger("loops"), loops.getJsonObject("data").getInteger("answered"));
    assertEquals("UP", check(ok.bodyAsJsonObject(), "event-bus").getString("status"));

    Health.of(vertx).markNotLive("supervisor: QueuePollerVerticle stalled 3 times in a row");
    for (int port : new int[] {config.health().port(), config.api().port()}) {
      HttpResponse<Buffer> down = get(port, "/health/live");
      assertEquals(503, down.statusCode(), down.bodyAsString());
      JsonObject process = check(down.bodyAsJsonObject(), "process");
      assertEquals("DOWN", process.getString("status"));
      assertTrue(process.getJsonObject("data").getString("reason").contains("QueuePollerVerticle"), process.encode());
    }
  }

  @Test
  void eventLoopProbeReportsABlockedLoop() throws Exception {
    vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(4).setBlockedThreadCheckInterval(60_000));
    JsonObject healthy = await(EventLoopProbe.probe(vertx, 1000));
    assertTrue(healthy.getBoolean("ok"), healthy.encode());
    assertEquals(4, healthy.getInteger("loops"));

    EventExecutor victim = ((VertxInternal) vertx).eventLoopGroup().iterator().next();
    CountDownLatch release = new CountDownLatch(1);
    victim.execute(() -> {
      try {
        release.await(10, TimeUnit.SECONDS); // a handler that never returns
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    try {
      // Probe from a context that is not on the blocked loop.
      ContextInternal ctx;
      do {
        ctx = ((VertxInternal) vertx).createEventLoopContext();
      } while (ctx.nettyEventLoop() == victim);
      Promise<JsonObject> verdict = Promise.promise();
      ctx.runOnContext(v -> EventLoopProbe.probe(vertx, 300).onComplete(verdict));
      Future<JsonObject> f = verdict.future();
      long started = System.nanoTime();
      JsonObject blocked = await(f);
      long tookMs = (System.nanoTime() - started) / 1_000_000;
      assertFalse(blocked.getBoolean("ok"), blocked.encode());
      assertEquals(3, blocked.getInteger("answered"), blocked.encode());
      assertTrue(tookMs < 3000, "verdict within its limit, took " + tookMs + " ms");
    } finally {
      release.countDown();
    }
    Await.until("all loops answer again", Duration.ofSeconds(5), () -> await(EventLoopProbe.probe(vertx, 1000)).getBoolean("ok"));
  }

  @Test
  void everyRoleSharesOneHealthServer() {
    startApi();
    Future<Void> again = HealthServer.ensure(vertx, config);
    assertSame(again, HealthServer.ensure(vertx, config), "asking twice gives the same server");
    await(again);
    HttpResponse<Buffer> metrics = get(config.health().port(), "/metrics");
    assertEquals(200, metrics.statusCode());
    assertTrue(metrics.bodyAsString().contains("qwenedit_queue_depth"), "the health port serves /metrics");
    HttpResponse<Buffer> missing = get(config.health().port(), "/nope");
    assertEquals(404, missing.statusCode());
    assertEquals("not_found", missing.bodyAsJsonObject().getJsonObject("error").getString("code"));
  }

  @Test
  void sameApiAndHealthPortIsRefusedWithAClearMessage() {
    int port = LocalRedisServer.freePort();
    config = TestConfigs.config(REDIS.url(), "HTTP_PORT", String.valueOf(port), "HEALTH_PORT", String.valueOf(port));
    vertx = Meters.vertxWithMetrics(new VertxOptions());
    Throwable err = Await.failure(ApiRole.deploy(vertx, config));
    assertTrue(err.getMessage().contains("HTTP_PORT and HEALTH_PORT"), err.getMessage());
  }

  @Test
  void healthPortInUseFailsTheStartWithTheSettingsName() throws Exception {
    try (var taken = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
      config = TestConfigs.config(REDIS.url(), "HTTP_HOST", "127.0.0.1", "HTTP_PORT", String.valueOf(LocalRedisServer.freePort()),
          "HEALTH_HOST", "127.0.0.1", "HEALTH_PORT", String.valueOf(taken.getLocalPort()));
      vertx = Meters.vertxWithMetrics(new VertxOptions());
      Throwable err = Await.failure(ApiRole.deploy(vertx, config));
      assertTrue(err.getMessage().contains("HEALTH_PORT"), err.getMessage());
    }
  }
}
