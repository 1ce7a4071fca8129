package io.qwenedit.bot;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The requests a bot keeps while Redis is down, on disk ({@code BOT_OUTAGE_FILE}): one Telegram update per line,
 * oldest first. Written whole on every change (a new file moved over the old one, so a crash leaves either version,
 * never half of one) and removed when empty; read back at start, so a bot that stops or crashes before Redis is back
 * still handles them. Writes go one after another on a worker thread, never on the event loop.
 */
final class OutageFile {
  private static final Logger LOG = LoggerFactory.getLogger(OutageFile.class);

  private final Vertx vertx;
  private final Path file;
  private Future<Void> last = Future.succeededFuture();
  private boolean failing;

  OutageFile(Vertx vertx, Path file) {
    this.vertx = vertx;
    this.file = file;
  }

  Path path() {
    return file;
  }

  /** The updates kept by an earlier run (empty when none); an unreadable line is skipped and logged. */
  Future<List<JsonObject>> load() {
    return vertx.executeBlocking(() -> {
      List<JsonObject> out = new ArrayList<>();
      if (!Files.exists(file)) {
        return out;
      }
      int lineNo = 0;
      for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
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

  /** Writes the kept updates as they now stand (after the writes asked for before); removes the file when none. */
  Future<Void> save(Collection<JsonObject> updates) {
    String text = updates.isEmpty() ? null : String.join("\n", updates.stream().map(JsonObject::encode).toList()) + "\n";
    last = last.transform(ignored -> vertx.<Void>executeBlocking(() -> {
      write(text);
      return null;
    }).andThen(ar -> {
      if (ar.failed() && !failing) {
        LOG.error("cannot write the kept requests to {} ({}): they are in memory only until it works again", file,
            ar.cause().getMessage());
      } else if (ar.succeeded() && failing) {
        LOG.info("the kept requests are written to {} again", file);
      }
      failing = ar.failed();
    }));
    return last;
  }

  private void write(String text) throws IOException {
    if (text == null) {
      Files.deleteIfExists(file);
      return;
    }
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = dir.resolve(file.getFileName() + ".tmp");
    Files.writeString(tmp, text, StandardCharsets.UTF_8);
    try {
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /** Waits for the writes asked for so far (at stop). */
  Future<Void> flushed() {
    return last.otherwiseEmpty();
  }
}
