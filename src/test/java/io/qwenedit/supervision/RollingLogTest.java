package io.qwenedit.supervision;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An owned ComfyUI's output: copied into a file that rolls over, bounded, and always read to its end. */
class RollingLogTest {
  @TempDir
  Path dir;

  /** A real child process that prints {@code lines} numbered lines of 100 bytes each, then exits. */
  private static Process printer(int lines) throws Exception {
    String script = "i=0; while [ $i -lt " + lines + " ]; do printf '%099d\\n' $i; i=$((i+1)); done";
    Process p = new ProcessBuilder("sh", "-c", script).redirectErrorStream(true).start();
    p.getOutputStream().close();
    return p;
  }

  @Test
  void outputRollsOverAndTheFilesStayWithinTheirBound() throws Exception {
    Path file = dir.resolve("comfyui-gpu0.log");
    Process p = printer(3_000); // 300 KB
    Thread t = RollingLog.start(p.getInputStream(), file, 64 * 1024, 2, "test-output");
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the child ran to its end");
    t.join(10_000);
    assertFalse(t.isAlive(), "the copy ends with the output");
    try (Stream<Path> s = Files.list(dir)) {
      assertEquals(List.of("comfyui-gpu0.log", "comfyui-gpu0.log.1", "comfyui-gpu0.log.2"),
          s.map(x -> x.getFileName().toString()).sorted().toList());
    }
    long total = Files.size(file) + Files.size(dir.resolve("comfyui-gpu0.log.1")) + Files.size(dir.resolve("comfyui-gpu0.log.2"));
    assertTrue(total <= 3 * (64 * 1024 + 8192), "bounded (a file rolls within one read of its size): " + total);
    // oldest kept first (.2, .1, then the live file): the newest lines, in order, none missing inside the kept span
    List<String> kept = new java.util.ArrayList<>(Files.readAllLines(dir.resolve("comfyui-gpu0.log.2")));
    kept.addAll(Files.readAllLines(dir.resolve("comfyui-gpu0.log.1")));
    kept.addAll(Files.readAllLines(file));
    long first = Long.parseLong(kept.get(0));
    for (int i = 0; i < kept.size(); i++) {
      assertEquals(first + i, Long.parseLong(kept.get(i)), "line " + i + " of the kept output is in order");
    }
    assertEquals(2_999, Long.parseLong(kept.get(kept.size() - 1)), "the newest line is kept");
    assertTrue(first > 0, "the oldest output was dropped");
  }

  @Test
  void aChildWhoseLogCannotBeWrittenStillRunsToItsEnd() throws Exception {
    Path notADir = dir.resolve("plain");
    Files.writeString(notADir, "x");
    Process p = printer(3_000); // far more than a pipe holds: a child nobody reads from would block
    Thread t = RollingLog.start(p.getInputStream(), notADir.resolve("comfyui-gpu0.log"), 64 * 1024, 2, "test-output");
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the output was drained though it could not be kept");
    assertEquals(0, p.exitValue());
    t.join(10_000);
    assertFalse(t.isAlive());
  }

  @Test
  void anEarlierRunsFileIsAppendedToAndCountsTowardsTheRollOver() throws Exception {
    Path file = dir.resolve("comfyui-gpu0.log");
    Files.writeString(file, "x".repeat(60 * 1024) + "\n");
    Process p = printer(100); // 10 KB: together over 64 KB
    Thread t = RollingLog.start(p.getInputStream(), file, 64 * 1024, 2, "test-output");
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    t.join(10_000);
    assertTrue(Files.exists(dir.resolve("comfyui-gpu0.log.1")), "rolled over once the earlier content and the new passed the size");
    assertTrue(Files.readString(dir.resolve("comfyui-gpu0.log.1")).startsWith("xxx"));
  }
}
