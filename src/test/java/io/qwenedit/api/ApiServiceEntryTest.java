package io.qwenedit.api;

import static io.qwenedit.testing.Await.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qwenedit.queue.Registry;
import io.qwenedit.testing.Await;
import io.qwenedit.testing.RedisServerExtension;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A running API lists itself for `status` (services registry) and leaves the list at once when it stops. */
class ApiServiceEntryTest {
  @RegisterExtension
  static final RedisServerExtension REDIS = new RedisServerExtension();

  private ApiHarness h;

  @AfterEach
  void stop() {
    if (h != null) {
      h.close();
    }
  }

  @Test
  void theApiIsListedWhileItRunsAndGoneWhenItStops() {
    h = ApiHarness.start(REDIS.url());
    Registry services = Registry.services(h.queue.redis(), h.queue.keys());
    Await.until("the API announced itself", Duration.ofSeconds(10), () -> await(services.list()).size() == 1);
    JsonObject entry = await(services.list()).getJsonObject(0);
    assertEquals("api", entry.getString("role"));
    assertEquals(h.port, entry.getInteger("port"));
    assertEquals(ProcessHandle.current().pid(), entry.getLong("pid"));
    assertTrue(entry.getString("id").startsWith("api-"), entry.encode());

    await(h.vertx.undeploy(h.deployment));
    JsonArray after = await(services.list());
    assertEquals(0, after.size(), "a clean stop removes the entry at once: " + after.encode());
  }
}
