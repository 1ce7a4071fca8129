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
 * list stands when it starts (a burst costs a few writes, not one per change). Used from one event loop only.
 */
final class OutageFile {
  private static final Logger LOG = LoggerFactory.getLogger(OutageFile.class);

  private final Vertx vertx;
  private final Path file;
  private final Supplier<Collection<JsonObject>> current;
  private List<Promise<Void>> nextWaiters = new ArrayList<>();
  private Future<Void> inFlight;
  private boolean failing;

  /** {@code current}: the kept updates as they stand, read on the event loop when a write starts. */
  OutageFile(Vertx vertx, Path file, Supplier<Collection<JsonObject>> current) {
    this.vertx = vertx;
    this.file = file;
    this.current = current;
  }

  Path path() {
    return file;
  }

  /**
   * The updates kept by an earlier run (empty when none); an unreadable line is skipped. A file that cannot be read
   * at all is moved aside (never overwritten by this run) and the failure says where.
   */
  Future<List<JsonObject>> load() {
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

  /** Resolves once a write that started after this call is done (the list as it now stands is on disk). */
  Future<Void> save() {
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
    write.onComplete(ar -> {
      if (ar.failed() && !failing) {
        LOG.error("cannot write the kept requests to {} ({}): they are in memory only until it works again", file,
            ar.cause().getMessage());
      } else if (ar.succeeded() && failing) {
        LOG.info("the kept requests are written to {} again", file);
      }
      failing = ar.failed();
      waiters.forEach(w -> w.handle(ar));
      inFlight = null;
      if (!nextWaiters.isEmpty()) {
        writeNext();
      }
    });
  }

  private void write(String text) throws IOException {
    if (text == null) {
      Files.deleteIfExists(file);
      return;
    }
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
    try {
      Files.writeString(tmp, text, StandardCharsets.UTF_8, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING,
          StandardOpenOption.DSYNC);
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
