package io.qwenedit.queue;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import java.time.Duration;

/**
 * Where input and output images live, reachable from every host. The default keeps them in Redis with a
 * time-to-live ({@link RedisImageStore}); a directory or object store can implement this later.
 */
public interface ImageStore {
  /** Stores bytes under {@code ref} with a provisional time-to-live (the queue scripts manage it afterwards). */
  Future<Void> put(String ref, Buffer bytes, Duration ttl);

  /** The bytes, or null when the image is gone (expired or never stored). */
  Future<Buffer> get(String ref);

  Future<Void> delete(String ref);
}
