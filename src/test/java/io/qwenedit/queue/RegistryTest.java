package io.qwenedit.queue;

import static io.qwenedit.testing.Await.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.qwenedit.config.Config;
import io.qwenedit.redis.RedisCommands;
import io.qwenedit.testing.RedisServerExtension;
import io.qwenedit.testing.TestConfigs;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.redis.client.Command;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The workers' and services' index: entries of processes that ended without a word do not stay in it. */
@ExtendWith(VertxExtension.class)
class RegistryTest {
  @RegisterExtension
  static final RedisServerExtension REDIS = new RedisServerExtension();

  @Test
  void anInstanceGoneForAnHourIsDroppedFromTheIndexByTheNextAnnouncementWithoutAnyReader(Vertx vertx) {
    Config cfg = TestConfigs.config(REDIS.url());
    RedisCommands redis = new RedisCommands(vertx, cfg.redis(), "test");
    try {
      Keys keys = new Keys(cfg.redis().prefix());
      Registry services = Registry.services(redis, keys);
      long now = System.currentTimeMillis();
      // an API killed an hour and a minute ago (its entry long expired), and a bot that announces every few minutes
      await(redis.send(Command.ZADD, keys.services(), String.valueOf(now - Registry.PRUNE_AFTER.toMillis() - 60_000), "api-killed"));
      await(redis.send(Command.ZADD, keys.services(), String.valueOf(now - 5 * 60_000), "bot-slow"));
      // another instance announces with a short life of its own: it must not drop the slow one
      await(services.announce("api-fast", new JsonObject().put("role", "api"), Duration.ofSeconds(3)));
      // read the index itself: list() prunes too, and nothing in a running service calls it
      List<String> ids = JobQueue.strings(await(redis.send(Command.ZRANGE, keys.services(), 0, -1)));
      assertEquals(List.of("bot-slow", "api-fast"), ids);
    } finally {
      await(redis.close());
    }
  }
}
