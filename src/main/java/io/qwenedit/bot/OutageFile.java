package io.qwenedit.bot;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The requests a bot keeps while Redis is down, on disk ({@code BOT_OUTAGE_FILE}): one Telegram update per line,
 * oldest first. Written whole (synced, then moved over the old file, so a crash leaves either version, never half of
 * one) and removed when empty; read back at start, so a bot that stops or crashes before Redis is back still handles
 * them. One write at a time on a worker thread: changes that arrive meanwhile go into the next write, taken as the
 * list stands when it starts (a burst costs a few writes, not one per change). A write that has not finished within
 * {@link #WRITE_LIMIT} (a hung disk or network file system) fails its saves, and saves fail at once while it hangs
 * (the requests stay in memory; the bot carries on): no second thread is sent after it, and the list as it then
 * stands is written as soon as it comes back. Used from one event loop only.
 */
final class OutageFile {
  private static final Logger LOG = LoggerFactory.getLogger(OutageFile.class);
  static final Duration WRITE_LIMIT = Duration.ofSeconds(10);

  private final Vertx vertx;
  private final Path file;
  private final Supplier<Collection<JsonObject>> current;
  private List<Promise<Void>> nextWaiters = new ArrayList<>();
  private final long writeLimitMs;
  private Future<Void> inFlight;
  private boolean failing;
  /** The write in flight has not come back within the limit. */
  private boolean stuck;
  /** A save was asked for while the write hung: write again when it comes back. */
  private boolean wanted;
  /** The earlier run's file could not be read in time at start: this run never overwrites it. */
  private boolean unread;

  /** {@code current}: the kept updates as they stand, read on the event loop when a write starts. */
  OutageFile(Vertx vertx, Path file, Supplier<Collection<JsonObject>> current) {
    this(vertx, file, current, WRITE_LIMIT);
  }

  OutageFile(Vertx vertx, Path file, Supplier<Collection<JsonObject>> current, Duration writeLimit) {
    this.vertx = vertx;
    this.file = file;
    this.current = current;
    this.writeLimitMs = writeLimit.toMillis();
  }

  Path path() {
    return file;
  }

  /**
   * The updates kept by an earlier run (empty when none); an unreadable line is skipped. A file that cannot be read
   * at all is moved aside (never overwritten by this run) and the failure says where. A read that has not finished
   * within the write limit (a hung disk) fails, and this run then keeps its requests in memory only: it cannot know
   * what the file holds, so it never overwrites it.
   */
  Future<List<JsonObject>> load() {
    return read().timeout(writeLimitMs, TimeUnit.MILLISECONDS).recover(err -> {
      if (!(err instanceof TimeoutException)) {
        return Future.failedFuture(err);
      }
      unread = true;
      return Future.failedFuture(new IOException("reading " + file + " has not finished after " + writeLimitMs
          + " ms (a hung disk?); this run keeps its requests in memory only and leaves the file as it is"));
    });
  }

  private Future<List<JsonObject>> read() {
    return vertx.executeBlocking(() -> {
      List<JsonObject> out = new ArrayList<>();
      if (!Files.exists(file)) {
        return out;
      }
      List<String> lines;
      try {
        lines = Files.readAllLines(file, StandardCharsets.UTF_8);
      } catch (IOException e) {
        Path aside = file.resolveSibling(file.getFileName() + ".unreadable-" + System.currentTimeMillis());
        Files.move(file, aside);
        throw new IOException(e.getMessage() + "; moved aside to " + aside, e);
      }
      int lineNo = 0;
      for (String line : lines) {
        lineNo++;
        if (line.isBlank()) {
          continue;
        }
        try {
          out.add(new JsonObject(line));
        } catch (RuntimeException e) {
          LOG.warn("{} line {} is not a Telegram update and is skipped: {}", file, lineNo, e.getMessage());
        }
      }
      return out;
    });
  }

  /**
   * Resolves once a write that started after this call is done (the list as it now stands is on disk); fails at once
   * while a write hangs.
   */
  Future<Void> save() {
    if (unread) {
      return Future.failedFuture(new IOException("not written: " + file + " could not be read at start, and what it"
          + " holds is not overwritten"));
    }
    if (stuck) {
      wanted = true;
      return Future.failedFuture(hung());
    }
    Promise<Void> p = Promise.promise();
    nextWaiters.add(p);
    if (inFlight == null) {
      writeNext();
    }
    return p.future();
  }

  private void writeNext() {
    List<Promise<Void>> waiters = nextWaiters;
    nextWaiters = new ArrayList<>();
    Collection<JsonObject> updates = current.get();
    String text = updates.isEmpty() ? null : String.join("\n", updates.stream().map(JsonObject::encode).toList()) + "\n";
    Future<Void> write = vertx.executeBlocking(() -> {
      write(text);
      return null;
    });
    // recorded before the handler is attached: a write that is already done runs the handler at once, and the
    // handler's "nothing in flight" must not be overwritten afterwards (that left every later save waiting for ever)
    inFlight = write;
    long limit = vertx.setTimer(writeLimitMs, t -> {
      if (inFlight == write && !write.isComplete()) {
        stuck = true;
        LOG.error("writing the kept requests to {} has not finished after {} ms (a hung disk?): they are in memory only"
            + " until it comes back", file, writeLimitMs);
        IOException e = hung();
        waiters.forEach(w -> w.tryFail(e));
        wanted = wanted || !nextWaiters.isEmpty();
        nextWaiters.forEach(w -> w.tryFail(e));
        nextWaiters = new ArrayList<>();
      }
    });
    write.onComplete(ar -> {
      vertx.cancelTimer(limit);
      if (stuck) {
        stuck = false;
        LOG.info("the hung write to {} came back ({})", file, ar.succeeded() ? "done" : ar.cause().getMessage());
      }
      if (ar.failed() && !failing) {
        LOG.error("cannot write the kept requests to {} ({}): they are in memory only until it works again", file,
            ar.cause().getMessage());
      } else if (ar.succeeded() && failing) {
        LOG.info("the kept requests are written to {} again", file);
      }
      failing = ar.failed();
      waiters.forEach(w -> {
        if (ar.succeeded()) {
          w.tryComplete();
        } else {
          w.tryFail(ar.cause());
        }
      });
      inFlight = null;
      if (!nextWaiters.isEmpty() || wanted) {
        wanted = false;
        writeNext();
      }
    });
  }

  private IOException hung() {
    return new IOException("writing " + file + " has not finished after " + writeLimitMs + " ms (a hung disk?)");
  }

  private void write(String text) throws IOException {
    if (text == null) {
      Files.deleteIfExists(file);
      return;
    }
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    // one name: one write at a time, and a new write never starts while one hangs
    Path tmp = dir.resolve(file.getFileName() + ".tmp");
    try {
      Files.writeString(tmp, text, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.DSYNC);
      try {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** Waits for the write in progress and any asked for meanwhile (at stop). */
  Future<Void> flushed() {
    return inFlight == null && nextWaiters.isEmpty() ? Future.succeededFuture() : save().otherwiseEmpty();
  }
}
