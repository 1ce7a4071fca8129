package io.qwenedit.api;

import static io.qwenedit.testing.Await.await;

import io.qwenedit.config.Config;
import io.qwenedit.metrics.Meters;
import io.qwenedit.queue.JobQueue;
import io.qwenedit.redis.LocalRedisServer;
import io.qwenedit.redis.RedisCommands;
import io.qwenedit.testing.TestConfigs;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One API process for a test: a service Vert.x (with the Prometheus registry), the API role deployed on free ports
 * against the test's redis-server, a web client from a separate Vert.x (so the server's metrics only count the
 * server side), and a queue client for the test to play the worker through the real queue.
 */
final class ApiHarness implements AutoCloseable {
  final Vertx vertx;
  final Vertx clientVertx;
  final Config config;
  final WebClient http;
  final RedisCommands redis;
  final JobQueue queue;
  final int port;
  /** The API role's deployment id once started (undeploy it to stop the role). */
  String deployment;
  final int healthPort;

  private ApiHarness(String redisUrl, String... overrides) {
    this.port = LocalRedisServer.freePort();
    int hp;
    do {
      hp = LocalRedisServer.freePort();
    } while (hp == port);
    this.healthPort = hp;
    List<String> all = new ArrayList<>(List.of("HTTP_HOST", "127.0.0.1", "HTTP_PORT", String.valueOf(port),
        "HEALTH_HOST", "127.0.0.1", "HEALTH_PORT", String.valueOf(healthPort),
        "HEALTH_CHECK_TIMEOUT", "1s", "METRICS_QUEUE_INTERVAL", "200ms"));
    all.addAll(Arrays.asList(overrides));
    this.config = TestConfigs.config(redisUrl, all.toArray(String[]::new));
    this.vertx = Meters.vertxWithMetrics(new VertxOptions());
    this.clientVertx = Vertx.vertx();
    this.http = WebClient.create(clientVertx, new WebClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(port)
        .setKeepAlive(false));
    this.redis = new RedisCommands(clientVertx, config.redis(), "test");
    this.queue = new JobQueue(redis, config.queue());
  }

  /** Starts the API role; fails the test if it does not listen within 20 s. */
  static ApiHarness start(String redisUrl, String... overrides) {
    ApiHarness h = new ApiHarness(redisUrl, overrides);
    try {
      h.deployment = await(ApiRole.deploy(h.vertx, h.config), Duration.ofSeconds(20));
    } catch (RuntimeException | Error e) {
      h.close();
      throw e;
    }
    return h;
  }

  TestWorker worker() {
    return new TestWorker(queue);
  }

  @Override
  public void close() {
    try {
      http.close();
      await(redis.close());
    } catch (RuntimeException | Error ignored) {
      // closing anyway
    }
    await(vertx.close(), Duration.ofSeconds(20));
    await(clientVertx.close(), Duration.ofSeconds(20));
  }
}
