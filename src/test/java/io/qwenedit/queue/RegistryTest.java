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
  void anInstanceThatVanishedIsDroppedFromTheIndexByTheNextAnnouncementWithoutAnyReader(Vertx vertx) throws Exception {
    Config cfg = TestConfigs.config(REDIS.url());
    RedisCommands redis = new RedisCommands(vertx, cfg.redis(), "test");
    try {
      Keys keys = new Keys(cfg.redis().prefix());
      Registry services = Registry.services(redis, keys);
      await(services.announce("api-killed", new JsonObject().put("role", "api"), Duration.ofMillis(300)));
      await(services.announce("bot-alive", new JsonObject().put("role", "bot"), Duration.ofMillis(300)));
      Thread.sleep(400); // past the entry's life: "api-killed" is never announced again (SIGKILL)
      await(services.announce("bot-alive", new JsonObject().put("role", "bot"), Duration.ofMillis(300)));
      // read the index itself: list() prunes too, and nothing in a running service calls it
      List<String> ids = JobQueue.strings(await(redis.send(Command.ZRANGE, keys.services(), 0, -1)));
      assertEquals(List.of("bot-alive"), ids);
    } finally {
      await(redis.close());
    }
  }
}
