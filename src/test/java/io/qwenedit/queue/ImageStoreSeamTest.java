package io.qwenedit.queue;

import static io.qwenedit.testing.Await.await;
import static io.qwenedit.testing.Await.failure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qwenedit.queue.QueueResults.Claimed;
import io.qwenedit.queue.QueueResults.Enqueued;
import io.qwenedit.testing.Images;
import io.qwenedit.testing.RedisServerExtension;
import io.qwenedit.testing.TestQueues;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.redis.client.Command;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The image store is a seam: a queue given a store that is not inline (here a directory, written by this test) keeps
 * images there, with only references in Redis, and leaves no image behind for a job that was not stored.
 */
@ExtendWith(VertxExtension.class)
class ImageStoreSeamTest {
  @RegisterExtension
  static final RedisServerExtension REDIS = new RedisServerExtension();

  @TempDir
  Path dir;

  private final TestQueues queues = new TestQueues();

  /** Images as files in one directory, the way a shared-volume store would keep them (expiry left to a sweep). */
  static final class DirectoryImageStore implements ImageStore {
    private final Vertx vertx;
    private final Path root;

    DirectoryImageStore(Vertx vertx, Path root) {
      this.vertx = vertx;
      this.root = root;
    }

    @Override
    public boolean inline() {
      return false;
    }

    @Override
    public Future<Void> put(String ref, Buffer bytes, Duration keep) {
      return vertx.fileSystem().writeFile(root.resolve(ref).toString(), bytes);
    }

    @Override
    public Future<Buffer> get(String ref) {
      Path p = root.resolve(ref);
      return vertx.fileSystem().exists(p.toString()).compose(e -> e ? vertx.fileSystem().readFile(p.toString()) : Future.succeededFuture(null));
    }

    @Override
    public Future<Void> delete(String ref) {
      return vertx.fileSystem().delete(root.resolve(ref).toString()).otherwiseEmpty();
    }
  }

  private JobQueue queue(Vertx vertx, String... overrides) {
    return queues.queue(vertx, REDIS.url(), new DirectoryImageStore(vertx, dir), overrides);
  }

  @AfterEach
  void closeClients() {
    queues.close();
  }

  private List<String> files() throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  private int imageKeysInRedis(JobQueue q) {
    return await(q.redis().send(Command.KEYS, q.keys().imagePrefix() + "*")).size();
  }

  @Test
  void imagesLiveInTheStoreAndOnlyReferencesInRedis(Vertx vertx) throws IOException {
    JobQueue q = queue(vertx);
    Buffer input = Images.png(64, 48);
    Enqueued e = await(q.enqueue(NewJob.of("make the sky purple", input)));
    Job queued = await(q.get(e.id()));
    assertEquals(List.of(queued.inputRef()), files(), "the input went to the store");
    assertEquals(0, imageKeysInRedis(q), "and not into Redis");
    assertEquals(input, await(q.image(queued.inputRef())), "read back through the queue");

    Claimed c = await(q.claim("w1", 1)).jobs().get(0);
    Buffer result = Images.png(32, 24);
    assertTrue(await(q.complete(c.id(), c.fence(), result, new JsonObject())).accepted());
    Job done = await(q.get(e.id()));
    assertEquals(JobState.SUCCEEDED, done.state());
    assertTrue(files().contains(done.resultRef()), "the result went to the store: " + files());
    assertEquals(result, await(q.image(done.resultRef())));
    assertEquals(0, imageKeysInRedis(q));
    assertEquals(32, done.resultInfo().getInteger("width"), "the record still describes the result");
  }

  @Test
  void aJobThatIsNotStoredLeavesNoImageBehind(Vertx vertx) throws IOException {
    JobQueue q = queue(vertx, "QUEUE_MAX_DEPTH", "1");
    Enqueued first = await(q.enqueue(NewJob.of("one", Images.png(16, 16)).withIdempotencyKey("k1")));
    assertEquals(1, files().size());

    Throwable full = failure(q.enqueue(NewJob.of("two", Images.png(16, 16))));
    assertInstanceOf(JobRejectedException.class, full);
    assertEquals(1, files().size(), "the refused job's input was taken away again: " + files());

    Enqueued again = await(q.enqueue(NewJob.of("one", Images.png(16, 16)).withIdempotencyKey("k1")));
    assertEquals(first.id(), again.id());
    assertEquals(1, files().size(), "a duplicate stores nothing: " + files());
  }

  @Test
  void aCompletionSentAgainKeepsTheResultTheFirstOneStored(Vertx vertx) throws IOException {
    JobQueue q = queue(vertx);
    Enqueued e = await(q.enqueue(NewJob.of("x", Images.png(16, 16))));
    Claimed c = await(q.claim("w1", 1)).jobs().get(0);
    Buffer result = Images.png(8, 8);
    assertTrue(await(q.complete(c.id(), c.fence(), result, new JsonObject())).accepted());
    // a worker that did not get the first answer (a Redis timeout) sends the same completion again
    assertFalse(await(q.complete(c.id(), c.fence(), result, new JsonObject())).accepted());
    Job done = await(q.get(e.id()));
    assertEquals(result, await(q.image(done.resultRef())), "the refused repeat did not take the stored result away");
  }

  @Test
  void aRefusedCompletionLeavesNoResultBehind(Vertx vertx) throws IOException {
    JobQueue q = queue(vertx);
    Enqueued e = await(q.enqueue(NewJob.of("x", Images.png(16, 16))));
    Claimed c = await(q.claim("w1", 1)).jobs().get(0);
    assertEquals("cancelled", await(q.finishCancelled(c.id(), c.fence())).state());
    assertFalse(await(q.complete(c.id(), c.fence(), Images.png(8, 8), new JsonObject())).accepted(), "the job ended: fenced");
    assertEquals(List.of(await(q.get(e.id())).inputRef()), files(), "only the input is kept");
    assertNull(await(q.get(e.id())).resultRef());
  }
}
