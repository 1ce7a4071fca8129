package io.qwenedit.supervision;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies a child process's output into a file that rolls over at {@code maxBytes} ({@code file.1} is the newest rolled
 * file, {@code file.<keep>} the oldest kept): the file and its rolled copies never take more than
 * {@code (keep + 1) * maxBytes}. It reads until the process's output ends and never stops reading before that, even
 * when the disk refuses writes (the output is then dropped until writing works again): a child whose output is no
 * longer read blocks on its next write.
 */
final class RollingLog implements Runnable {
  private static final Logger LOG = LoggerFactory.getLogger(RollingLog.class);
  private static final long RETRY_OPEN_MS = 10_000;

  private final InputStream in;
  private final Path file;
  private final long maxBytes;
  private final int keep;
  private OutputStream out;
  private long size;
  private long openFailedAt = -1;

  RollingLog(InputStream in, Path file, long maxBytes, int keep) {
    this.in = in;
    this.file = file;
    this.maxBytes = Math.max(1, maxBytes);
    this.keep = Math.max(1, keep);
  }

  /** Starts copying on a daemon thread of its own; the thread ends with the output. */
  static Thread start(InputStream in, Path file, long maxBytes, int keep, String threadName) {
    Thread t = new Thread(new RollingLog(in, file, maxBytes, keep), threadName);
    t.setDaemon(true);
    t.start();
    return t;
  }

  @Override
  public void run() {
    byte[] buf = new byte[8192];
    try {
      int n;
      while ((n = in.read(buf)) >= 0) {
        write(buf, n);
      }
    } catch (IOException e) {
      // the output was closed under us (the process was killed): nothing more to copy
    } finally {
      closeQuietly();
    }
  }

  private void write(byte[] buf, int n) {
    if (out == null && !open()) {
      return; // dropped: the file cannot be written now
    }
    try {
      int from = 0;
      if (size + n >= maxBytes) {
        // roll over at the last line end in this chunk (a line is not split between two files), or here without one
        int cut = lastNewline(buf, n) + 1;
        if (cut == 0) {
          cut = n;
        }
        out.write(buf, 0, cut);
        out.flush();
        closeQuietly();
        roll();
        from = cut;
        if (!open()) {
          return;
        }
      }
      if (from < n) {
        out.write(buf, from, n - from);
        out.flush();
      }
      size += n - from;
    } catch (IOException e) {
      LOG.warn("cannot write ComfyUI's output to {} ({}): dropping it until writing works again", file, e.getMessage());
      closeQuietly();
      openFailedAt = System.currentTimeMillis();
    }
  }

  private static int lastNewline(byte[] buf, int n) {
    for (int i = n - 1; i >= 0; i--) {
      if (buf[i] == '\n') {
        return i;
      }
    }
    return -1;
  }

  private boolean open() {
    if (openFailedAt >= 0 && System.currentTimeMillis() - openFailedAt < RETRY_OPEN_MS) {
      return false;
    }
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      out = Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
      size = Files.size(file);
      openFailedAt = -1;
      return true;
    } catch (IOException e) {
      if (openFailedAt < 0) {
        LOG.warn("cannot open {} for ComfyUI's output ({}): dropping it until it can be opened", file, e.getMessage());
      }
      openFailedAt = System.currentTimeMillis();
      return false;
    }
  }

  /** file.(keep-1) → file.keep (the oldest is replaced), ..., file → file.1. */
  private void roll() {
    try {
      for (int i = keep - 1; i >= 1; i--) {
        Path from = rolled(i);
        if (Files.exists(from)) {
          Files.move(from, rolled(i + 1), StandardCopyOption.REPLACE_EXISTING);
        }
      }
      Files.move(file, rolled(1), StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      LOG.warn("cannot roll {} over ({}): it is started again from empty", file, e.getMessage());
      try {
        Files.deleteIfExists(file);
      } catch (IOException ignored) {
        // the next open appends to it; the size check rolls it again
      }
    }
  }

  Path rolled(int i) {
    return file.resolveSibling(file.getFileName() + "." + i);
  }

  private void closeQuietly() {
    if (out != null) {
      try {
        out.close();
      } catch (IOException ignored) {
        // nothing more can be done for this file
      }
      out = null;
    }
  }
}
