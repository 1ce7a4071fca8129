package io.qwenedit.queue;

import io.qwenedit.redis.RedisCommands;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.redis.client.Command;
import java.time.Duration;

/**
 * Images as Redis strings under {@code <prefix>{q}:img:<ref>} (docs/redis-keys.md), in the queue's hash slot so the
 * queue's scripts store them with the job record and set their time-to-live: inline.
 */
public final class RedisImageStore implements ImageStore {
  private final RedisCommands redis;
  private final Keys keys;

  public RedisImageStore(RedisCommands redis, Keys keys) {
    this.redis = redis;
    this.keys = keys;
  }

  @Override
  public boolean inline() {
    return true;
  }

  @Override
  public Future<Void> put(String ref, Buffer bytes, Duration keep) {
    return (keep == null ? redis.send(Command.SET, keys.image(ref), bytes)
        : redis.send(Command.SET, keys.image(ref), bytes, "PX", Math.max(1, keep.toMillis()))).mapEmpty();
  }

  @Override
  public Future<Buffer> get(String ref) {
    return redis.send(Command.GET, keys.image(ref)).map(r -> r == null ? null : r.toBuffer());
  }

  @Override
  public Future<Void> delete(String ref) {
    return redis.send(Command.DEL, keys.image(ref)).mapEmpty();
  }
}
