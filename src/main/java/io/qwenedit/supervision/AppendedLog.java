package io.qwenedit.supervision;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * A log file another process appends to (an owned ComfyUI's output, opened with O_APPEND), kept within a size from
 * outside: once it reaches {@code maxBytes} it is copied to {@code file.1} (older copies move up to
 * {@code file.<keep>}, the oldest is dropped) and then emptied. The process's next write lands at the start of the
 * emptied file (O_APPEND), so nothing has to be reopened and the process never depends on a reader of ours: an
 * orphaned ComfyUI (its worker killed) keeps running. What it writes between the copy and the emptying is lost.
 */
final class AppendedLog {
  private final Path file;
  private final long maxBytes;
  private final int keep;

  AppendedLog(Path file, long maxBytes, int keep) {
    this.file = file;
    this.maxBytes = Math.max(1, maxBytes);
    this.keep = Math.max(1, keep);
  }

  Path rolled(int i) {
    return file.resolveSibling(file.getFileName() + "." + i);
  }

  /** Rolls the file over when it has reached its size; true when it did. */
  boolean rollIfFull() throws IOException {
    if (!Files.exists(file) || Files.size(file) < maxBytes) {
      return false;
    }
    for (int i = keep - 1; i >= 1; i--) {
      if (Files.exists(rolled(i))) {
        Files.move(rolled(i), rolled(i + 1), StandardCopyOption.REPLACE_EXISTING);
      }
    }
    Files.copy(file, rolled(1), StandardCopyOption.REPLACE_EXISTING);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.truncate(0);
    }
    return true;
  }
}
