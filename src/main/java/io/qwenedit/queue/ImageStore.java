package io.qwenedit.queue;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import java.time.Duration;

/**
 * Where input and result images live, reachable from every host. The default, {@link RedisImageStore}, is
 * <em>inline</em>: the image travels inside the queue's enqueue and complete scripts and is stored in the same atomic
 * step as the job record, and the scripts manage its time-to-live with the job's. Another store (a shared directory,
 * an object store) is not inline: the queue writes the image to it first, the job record keeps only the reference,
 * and the queue removes the image again when the job was not stored after all. Such a store expires what it holds
 * itself: the scripts' time-to-live handling reaches Redis keys only. Age alone cannot tell an orphan from the input
 * of a job that waits long or was put back from the dead letters: a sweep should remove a file only when the job
 * record that names it is gone (it expires with the retention).
 */
public interface ImageStore {
  /** True when the queue's scripts store and expire the images in Redis themselves; then {@link #put} is not used. */
  boolean inline();

  /**
   * Stores an image before the job that names it is queued or completed. {@code keep}: how long it must at least be
   * kept (a result: the image retention), or null for an input, which must stay while its job waits or runs.
   */
  Future<Void> put(String ref, Buffer bytes, Duration keep);

  /** The bytes, or null when the image is gone (expired or never stored). */
  Future<Buffer> get(String ref);

  /** Removes an image whose job was not stored after all (queue full, a duplicate, a completion refused). */
  Future<Void> delete(String ref);
}
