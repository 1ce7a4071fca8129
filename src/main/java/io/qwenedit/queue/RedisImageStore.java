package io.qwenedit.queue;

import io.qwenedit.redis.RedisCommands;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import java.time.Duration;

/** Images as Redis strings under {@code <prefix>{q}:img:<ref>}, in the queue's hash slot so scripts can set their TTL. */
public final class RedisImageStore implements ImageStore {
  private final RedisCommands redis;
  private final Keys keys;

  public RedisImageStore(RedisCommands redis, Keys keys) {
    this.redis = redis;
    this.keys = keys;
  }

  @Override
  public Future<Void> put(String ref, Buffer bytes, Duration ttl) {
    return redis.send(Request.cmd(Command.SET).arg(keys.image(ref)).arg(bytes).arg("PX").arg(Math.max(1, ttl.toMillis())))
        .mapEmpty();
  }

  @Override
  public Future<Buffer> get(String ref) {
    return redis.send(Request.cmd(Command.GET).arg(keys.image(ref))).map(r -> r == null ? null : r.toBuffer());
  }

  @Override
  public Future<Void> delete(String ref) {
    return redis.send(Request.cmd(Command.DEL).arg(keys.image(ref))).mapEmpty();
  }
}
