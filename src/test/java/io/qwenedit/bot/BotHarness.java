package io.qwenedit.bot;

import io.qwenedit.config.Config;
import io.qwenedit.queue.JobQueue;
import io.qwenedit.redis.RedisCommands;
import io.qwenedit.telegram.TelegramStub;
import io.qwenedit.testing.TestConfigs;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One bot instance for a test: its own Vert.x (as in a real process), deployed with {@link BotRole#deploy} against the
 * Telegram stub and the test's redis-server, with short timings. Can be stopped (cleanly) and started again, or two
 * can run side by side (two processes). Also gives the test its own view of the queue.
 */
final class BotHarness implements AutoCloseable {
  /** Short timings so the scenarios run in seconds; every other setting is the default. */
  static final String[] FAST = {
      "BOT_POLL_TIMEOUT", "1s",
      "BOT_POLL_GRACE", "1s",
      "BOT_HTTP_TIMEOUT", "3s",
      "BOT_BACKOFF_MAX", "500ms",
      "BOT_LEASE_TTL", "2s",
      "BOT_CHAT_INTERVAL", "100ms",
      "BOT_STATUS_INTERVAL", "150ms",
      "BOT_GLOBAL_RATE", "200",
  };

  final Config config;
  private final String instanceName;
  private Vertx vertx;
  private String deployment;
  private Vertx toolsVertx;
  private RedisCommands toolsRedis;
  private JobQueue queue;

  private BotHarness(Config config, String instanceName) {
    this.config = config;
    this.instanceName = instanceName;
  }

  static Config config(String redisUrl, TelegramStub stub, String... overrides) {
    List<String> all = new ArrayList<>(Arrays.asList(FAST));
    all.addAll(List.of("TELEGRAM_BOT_TOKEN", TelegramStub.TOKEN, "TELEGRAM_API_URL", stub.apiUrl().toString()));
    all.addAll(Arrays.asList(overrides));
    return TestConfigs.config(redisUrl, all.toArray(String[]::new));
  }

  static BotHarness start(String redisUrl, TelegramStub stub, String... overrides) {
    return start(config(redisUrl, stub, overrides), "bot-a");
  }

  static BotHarness start(Config config, String instanceName) {
    BotHarness h = new BotHarness(config.withBot(config.bot().withInstanceId(instanceName)), instanceName);
    h.up();
    return h;
  }

  /** Deploys the bot on a fresh Vert.x. */
  void up() {
    vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
    try {
      deployment = BotRole.deploy(vertx, config).await(20, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("bot did not start: " + e.getMessage(), e);
    }
  }

  /** A clean stop (undeploy: the lease is released, the offset saved), as on SIGTERM. */
  void down() {
    if (vertx == null) {
      return;
    }
    try {
      vertx.undeploy(deployment).await(30, TimeUnit.SECONDS);
    } catch (Exception ignored) {
      // closing the Vert.x below stops whatever is left
    }
    closeVertx();
  }

  /** A crash: the Vert.x is closed with nothing undeployed first (no lease release, no offset save). */
  void crash() {
    closeVertx();
  }

  private void closeVertx() {
    try {
      vertx.close().await(15, TimeUnit.SECONDS);
    } catch (Exception ignored) {
      // gone anyway
    }
    vertx = null;
  }

  Vertx vertx() {
    return vertx;
  }

  String name() {
    return instanceName;
  }

  /** The queue as the test sees it (its own client on its own Vert.x). */
  synchronized JobQueue queue() {
    if (queue == null) {
      toolsVertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
      toolsRedis = new RedisCommands(toolsVertx, config.redis(), "test-tools");
      queue = new JobQueue(toolsRedis, config.queue());
    }
    return queue;
  }

  BotKeys keys() {
    return new BotKeys(config.redis().prefix(), config.bot().botId());
  }

  @Override
  public void close() {
    down();
    if (toolsVertx != null) {
      try {
        toolsRedis.close().await(2, TimeUnit.SECONDS);
        toolsVertx.close().await(5, TimeUnit.SECONDS);
      } catch (Exception ignored) {
        // closing anyway
      }
    }
  }
}
