package io.qwenedit.redis;

import static io.qwenedit.testing.Await.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qwenedit.config.Config;
import io.qwenedit.testing.Await;
import io.qwenedit.testing.RedisServerExtension;
import io.qwenedit.testing.TestConfigs;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.redis.client.Command;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A Redis that is there but cannot serve now is "unavailable" (try again later), not a refusal of the request. */
@ExtendWith(VertxExtension.class)
class RedisTryAgainTest {
  @RegisterExtension
  static final RedisServerExtension REDIS = new RedisServerExtension();

  @Test
  void aReadOnlyReplicaAndAFullMemoryMeanTryAgainAndTheConnectionIsKept(Vertx vertx) {
    Config cfg = TestConfigs.config(REDIS.url());
    RedisCommands redis = new RedisCommands(vertx, cfg.redis(), "test");
    RedisCommands admin = new RedisCommands(vertx, cfg.redis(), "admin");
    try {
      await(redis.send(Command.SET, "k", "v"));
      // a failover under way: this server became a replica (of a master that is not there), writes are refused
      await(admin.send(Command.REPLICAOF, "127.0.0.1", String.valueOf(LocalRedisServer.freePort())));
      Throwable readOnly = Await.failure(redis.send(Command.SET, "k", "w"));
      assertInstanceOf(RedisUnavailableException.class, readOnly, readOnly.toString());
      assertTrue(readOnly.getMessage().contains("cannot serve requests right now: READONLY"), readOnly.getMessage());
      assertFalse(((RedisUnavailableException) readOnly).connectionLost());
      assertEquals("v", await(redis.send(Command.GET, "k")).toString(), "reads still work on the same connection");
      // the same within a batch (the client reports its replies as "ERR [i] READONLY ...")
      Throwable inBatch = Await.failure(redis.batch(java.util.List.of(io.vertx.redis.client.Request.cmd(Command.SET).arg("k").arg("x"),
          io.vertx.redis.client.Request.cmd(Command.SET).arg("k3").arg("y"))));
      assertInstanceOf(RedisUnavailableException.class, inBatch, inBatch.toString());
      await(admin.send(Command.REPLICAOF, "NO", "ONE"));
      await(redis.send(Command.SET, "k", "w"));

      // out of memory with nothing to evict
      await(admin.send(Command.CONFIG, "SET", "maxmemory-policy", "noeviction"));
      await(admin.send(Command.CONFIG, "SET", "maxmemory", "1"));
      Throwable oom = Await.failure(redis.send(Command.SET, "k2", "x"));
      assertInstanceOf(RedisUnavailableException.class, oom, oom.toString());
      assertTrue(oom.getMessage().contains("OOM"), oom.getMessage());
      await(admin.send(Command.CONFIG, "SET", "maxmemory", "0"));
      await(redis.send(Command.SET, "k2", "x"));

      // an error about the request itself is still that error
      Throwable wrongType = Await.failure(redis.send(Command.LPUSH, "k", "x"));
      assertFalse(wrongType instanceof RedisUnavailableException, wrongType.toString());
      assertTrue(wrongType.getMessage().startsWith("WRONGTYPE"), wrongType.getMessage());
    } finally {
      await(admin.send(Command.REPLICAOF, "NO", "ONE").otherwiseEmpty());
      await(admin.send(Command.CONFIG, "SET", "maxmemory", "0").otherwiseEmpty());
      await(redis.close());
      await(admin.close());
    }
  }
}
