package io.qwenedit.testing;

import io.qwenedit.config.Config;
import io.qwenedit.queue.ImageStore;
import io.qwenedit.queue.JobQueue;
import io.qwenedit.redis.RedisCommands;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;

/** Job queues on a test's Redis, each on a client of its own; {@link #close()} (after each test) closes them all. */
public final class TestQueues {
  private final List<RedisCommands> clients = new ArrayList<>();

  /** A queue with the test settings plus {@code overrides} (name, value, ...); images in Redis when {@code images} is null. */
  public JobQueue queue(Vertx vertx, String redisUrl, ImageStore images, String... overrides) {
    Config cfg = TestConfigs.config(redisUrl, overrides);
    RedisCommands redis = new RedisCommands(vertx, cfg.redis(), "test");
    clients.add(redis);
    return new JobQueue(redis, cfg.queue(), images);
  }

  public void close() {
    clients.forEach(c -> Await.await(c.close()));
    clients.clear();
  }
}
