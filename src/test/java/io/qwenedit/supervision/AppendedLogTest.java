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

/** An owned ComfyUI's output file: rolled over from outside while the process goes on appending to it. */
class AppendedLogTest {
  @TempDir
  Path dir;

  @Test
  void aFileRolledOverWhileAProcessAppendsStaysBoundedAndTheProcessWritesOnAtItsStart() throws Exception {
    Path file = dir.resolve("comfyui-gpu0.log");
    AppendedLog log = new AppendedLog(file, 16 * 1024, 2);
    // a real child appending (O_APPEND, as ComfyProcess starts ComfyUI): 4,000 numbered lines of 100 bytes, over time
    String script = "i=0; while [ $i -lt 4000 ]; do printf '%099d\\n' $i; i=$((i+1));"
        + " if [ $((i % 50)) -eq 0 ]; then sleep 0.01; fi; done";
    Process p = new ProcessBuilder("sh", "-c", script).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(file.toFile())).start();
    int rolls = 0;
    try {
      while (p.isAlive()) {
        if (log.rollIfFull()) {
          rolls++;
        }
        Thread.sleep(2);
      }
      assertTrue(p.waitFor(60, TimeUnit.SECONDS));
      assertEquals(0, p.exitValue(), "the child ran to its end, never held up by the rolling");
    } finally {
      p.destroyForcibly();
    }
    assertTrue(rolls >= 3, "rolled " + rolls + " times");
    try (Stream<Path> s = Files.list(dir)) {
      assertEquals(List.of("comfyui-gpu0.log", "comfyui-gpu0.log.1", "comfyui-gpu0.log.2"),
          s.map(x -> x.getFileName().toString()).sorted().toList(), "the oldest copies are dropped");
    }
    for (Path f : List.of(file, log.rolled(1), log.rolled(2))) {
      byte[] bytes = Files.readAllBytes(f);
      for (byte b : bytes) {
        assertTrue(b != 0, f + ": no hole of zeros (the child appends at the emptied file's end, not at its old offset)");
      }
    }
    // the newest output is kept: in the live file, or in .1 when the last roll came after the last line
    List<String> newest = new java.util.ArrayList<>(Files.readAllLines(log.rolled(1)));
    newest.addAll(Files.readAllLines(file));
    // (a line written between a roll's copy and its emptying is lost, as documented: at most the last burst here)
    long last = Long.parseLong(newest.get(newest.size() - 1));
    assertTrue(last >= 3_950, "the newest output is kept: " + last);
    // a roll runs between two checks: a file is the size plus what was written meanwhile (100 bytes a line here)
    assertTrue(Files.size(log.rolled(1)) < 64 * 1024, "bounded: " + Files.size(log.rolled(1)));
  }

  @Test
  void aSmallFileOrNoFileIsLeftAsItIs() throws Exception {
    Path file = dir.resolve("comfyui-gpu0.log");
    AppendedLog log = new AppendedLog(file, 1024, 2);
    assertFalse(log.rollIfFull(), "no file yet");
    Files.writeString(file, "short\n");
    assertFalse(log.rollIfFull());
    assertEquals("short\n", Files.readString(file));
    assertFalse(Files.exists(log.rolled(1)));
  }
}
