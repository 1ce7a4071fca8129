package io.qwenedit.redis;

import static io.qwenedit.testing.Await.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qwenedit.config.Config;
import io.qwenedit.testing.Await;
import io.qwenedit.testing.RedisServerExtension;
import io.qwenedit.testing.TcpProxy;
import io.qwenedit.testing.TestConfigs;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.redis.client.Command;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

@ExtendWith(VertxExtension.class)
class RedisSubscriberTest {
  @RegisterExtension
  static final RedisServerExtension REDIS = new RedisServerExtension();

  @Test
  void subscriptionSurvivesPingsAndARedisRestartAndTellsTheOwnerToReconcile(Vertx vertx) throws Exception {
    Config cfg = TestConfigs.config(REDIS.url());
    RedisCommands pub = new RedisCommands(vertx, cfg.redis(), "pub");
    List<String> got = new CopyOnWriteArrayList<>();
    AtomicInteger reconnects = new AtomicInteger();
    RedisSubscriber sub = new RedisSubscriber(vertx, cfg.redis(), List.of("chan"), (c, m) -> got.add(m))
        .onReconnect(reconnects::incrementAndGet);
    await(sub.start());
    try {
      Thread.sleep(6_500); // past one keep-alive PING on the subscribed connection
      await(pub.send(Command.PUBLISH, "chan", "one"));
      Await.until("first message", Duration.ofSeconds(3), () -> got.contains("one"));
      REDIS.server().kill();
      REDIS.server().restart();
      Await.until("resubscribed", Duration.ofSeconds(15), () -> reconnects.get() == 1);
      await(pub.send(Command.PUBLISH, "chan", "two"));
      Await.until("message after restart", Duration.ofSeconds(3), () -> got.contains("two"));
    } finally {
      await(sub.close());
      await(pub.close());
    }
  }

  @Test
  void refusedSubscriptionsAreRetriedByOneLoopThatEndsWithOneSubscription(Vertx vertx) throws Exception {
    Config admin = TestConfigs.config(REDIS.url());
    RedisCommands redis = new RedisCommands(vertx, admin.redis(), "admin");
    // a user that may do everything but SUBSCRIBE: every attempt connects, then is refused
    await(redis.send(Command.ACL, "SETUSER", "norights", "reset", "on", ">pw", "~*", "&*", "+@all", "-subscribe"));
    Config cfg = TestConfigs.config(REDIS.url().replace("redis://", "redis://norights:pw@"));
    List<String> got = new CopyOnWriteArrayList<>();
    AtomicInteger reconnects = new AtomicInteger();
    RedisSubscriber sub = new RedisSubscriber(vertx, cfg.redis(), List.of("refused-chan"), (c, m) -> got.add(m))
        .onReconnect(reconnects::incrementAndGet);
    try {
      long before = connectionsReceived(redis);
      sub.startInBackground();
      // one loop: 5 refusals in about 2 s of back-off (a second loop per refusal made them thousands)
      Await.until("five refused attempts", Duration.ofSeconds(30), () -> connectionsReceived(redis) - before >= 5);
      await(redis.send(Command.ACL, "SETUSER", "norights", "+subscribe"));
      Await.until("subscribed once allowed", Duration.ofSeconds(15), sub::subscribed);
      Thread.sleep(4_000); // past any back-off after so few refusals: a second loop would have subscribed again by now
      long subscriptions = await(redis.send(Command.PUBSUB, "NUMSUB", "refused-chan")).get(1).toLong();
      assertEquals(1L, subscriptions, "one subscription, not one per retry loop");
      assertEquals(1, reconnects.get(), "the owner is told once");
      await(redis.send(Command.PUBLISH, "refused-chan", "once"));
      Await.until("the message", Duration.ofSeconds(3), () -> got.contains("once"));
      Thread.sleep(300);
      assertEquals(List.of("once"), got, "delivered once");
    } finally {
      await(sub.close());
      await(redis.send(Command.ACL, "DELUSER", "norights"));
      await(redis.close());
    }
  }

  private static long connectionsReceived(RedisCommands redis) {
    String info = await(redis.send(Command.INFO, "stats")).toString();
    return info.lines().filter(l -> l.startsWith("total_connections_received:"))
        .mapToLong(l -> Long.parseLong(l.substring(l.indexOf(':') + 1).strip())).findFirst().orElseThrow();
  }

  @Test
  void aPeerThatAcceptsButNeverAnswersFailsTheStartAndIsRetriedInTheBackground(Vertx vertx) throws Exception {
    java.util.concurrent.atomic.AtomicInteger accepted = new java.util.concurrent.atomic.AtomicInteger();
    try (java.net.ServerSocket silent = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
      List<java.net.Socket> held = new CopyOnWriteArrayList<>();
      Thread acceptor = new Thread(() -> {
        while (!silent.isClosed()) {
          try {
            held.add(silent.accept()); // reads nothing, answers nothing, closes nothing
            accepted.incrementAndGet();
          } catch (java.io.IOException e) {
            return;
          }
        }
      });
      acceptor.setDaemon(true);
      acceptor.start();
      Config cfg = TestConfigs.config("redis://127.0.0.1:" + silent.getLocalPort() + "/0", "REDIS_CONNECT_TIMEOUT", "500ms");
      RedisSubscriber sub = new RedisSubscriber(vertx, cfg.redis(), List.of("chan"), (c, m) -> { });
      long t0 = System.nanoTime();
      Throwable err = io.qwenedit.testing.Await.failure(sub.start());
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(ms < 10_000, "gave up after " + ms + " ms: " + err);
      sub.startInBackground();
      Await.until("it keeps trying", Duration.ofSeconds(20), () -> accepted.get() >= 3);
      assertTrue(!sub.subscribed());
      await(sub.close());
      for (java.net.Socket s : held) {
        s.close();
      }
    }
  }

  @Test
  void silentlyDeadSubscriptionIsDetectedAndReplaced(Vertx vertx) throws Exception {
    TcpProxy proxy = new TcpProxy(REDIS.port());
    Config direct = TestConfigs.config(REDIS.url());
    Config viaProxy = TestConfigs.config(proxy.redisUrl());
    RedisCommands pub = new RedisCommands(vertx, direct.redis(), "pub");
    List<String> got = new CopyOnWriteArrayList<>();
    AtomicInteger reconnects = new AtomicInteger();
    RedisSubscriber sub = new RedisSubscriber(vertx, viaProxy.redis(), List.of("chan"), (c, m) -> got.add(m))
        .onReconnect(reconnects::incrementAndGet);
    await(sub.start());
    try {
      proxy.freezeExisting();
      Await.until("resubscribed through a fresh connection", Duration.ofSeconds(15), () -> reconnects.get() >= 1);
      await(pub.send(Command.PUBLISH, "chan", "after-freeze"));
      Await.until("message after freeze", Duration.ofSeconds(3), () -> got.contains("after-freeze"));
      assertTrue(got.size() == 1);
    } finally {
      await(sub.close());
      await(pub.close());
      proxy.close();
    }
  }
}
