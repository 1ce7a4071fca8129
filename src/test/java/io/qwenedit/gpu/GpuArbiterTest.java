package io.qwenedit.gpu;

import static io.qwenedit.testing.Await.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qwenedit.config.Config;
import io.qwenedit.gpu.GpuArbiterVerticle.Gpu;
import io.qwenedit.testing.RedisServerExtension;
import io.qwenedit.testing.TcpProxy;
import io.qwenedit.testing.TestConfigs;
import io.qwenedit.worker.Addresses;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.net.URI;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The GPU arbiter alone, its Redis reached through a proxy the test slows down. */
@ExtendWith(VertxExtension.class)
class GpuArbiterTest {
  @RegisterExtension
  static final RedisServerExtension REDIS = new RedisServerExtension();

  @Test
  void aSlotUsableAgainWhenASlowRenewalIsAnsweredWakesThePoller(Vertx vertx) throws Exception {
    // Lock of 2 s: renewed every 666 ms, held here until 1.5 s after each renewal was asked. With every command
    // arriving at Redis 1.15 s late, each renewal is answered after the one before it ran out here (the slot is not
    // usable for a moment) but while the lock is still ours in Redis: each answer makes the slot usable again, and
    // a poller that asked for a slot in that moment got none and waits to be told.
    try (TcpProxy proxy = new TcpProxy(REDIS.port())) {
      // one connection, made before the delay (a connection made after it would take two delays for its handshake
      // and first command, past the command limit)
      Config cfg = TestConfigs.config(proxy.redisUrl(), "WORKER_GPU_LOCK_TIMEOUT", "2s", "REDIS_POOL_SIZE", "1");
      AtomicInteger changed = new AtomicInteger();
      vertx.eventBus().localConsumer(Addresses.ARBITER_CHANGED, m -> changed.incrementAndGet());
      String id = await(vertx.deployVerticle(
          new GpuArbiterVerticle(cfg, List.of(new Gpu("gpu0", URI.create("http://127.0.0.1:9"))), "arbiter-test")));
      try {
        vertx.eventBus().publish(Addresses.GPU_HEALTH, new JsonObject().put("gpu", "gpu0").put("state", "HEALTHY"));
        long deadline = System.currentTimeMillis() + 5_000;
        while (changed.get() == 0 && System.currentTimeMillis() < deadline) {
          Thread.sleep(20);
        }
        assertTrue(changed.get() > 0, "the lock taken and the GPU healthy: the poller is told the slot is free");

        proxy.delayToServer(1_150);
        Thread.sleep(2_500); // the renewals already on their way come back; from now on each one is late
        int before = changed.get();
        Thread.sleep(4_000); // about six renewals
        assertTrue(changed.get() > before, "a slot usable again after a late renewal must wake the poller");
      } finally {
        proxy.delayToServer(0);
        await(vertx.undeploy(id));
      }
    }
  }
}
