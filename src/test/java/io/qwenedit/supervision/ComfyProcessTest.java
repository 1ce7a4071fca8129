package io.qwenedit.supervision;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The exit listener of a ComfyUI process, with real child processes (a keeper restarts ComfyUI through it). */
class ComfyProcessTest {
  @TempDir
  Path logs;

  private final List<ComfyProcess> started = new ArrayList<>();

  @AfterEach
  void killAll() {
    started.forEach(ComfyProcess::close);
  }

  private ComfyProcess process(String command) {
    ComfyProcess p = new ComfyProcess("gpu0", 0, URI.create("http://127.0.0.1:8188"), command, logs, 1 << 20, 1);
    started.add(p);
    return p;
  }

  @Test
  void aListenerSetInPlaceOfAnotherIsTheOnlyOneTold() throws Exception {
    // a keeper replaced by its supervisor sets its own listener: the old one must not pile up and be told as well
    ComfyProcess p = process("sleep 60");
    p.start();
    AtomicInteger replaced = new AtomicInteger();
    Semaphore told = new Semaphore(0);
    p.exitListener(replaced::incrementAndGet);
    p.exitListener(told::release);
    p.killTree();
    assertTrue(told.tryAcquire(10, TimeUnit.SECONDS), "the current listener is told the process ended");
    Thread.sleep(200); // the JDK's exit hooks run one after the other: give a stale one the time to show
    assertEquals(0, replaced.get(), "the replaced listener is not told");
    assertEquals(0, told.availablePermits(), "told once");
  }

  @Test
  void theListenerIsToldOfEveryProcessStartedAgain() throws Exception {
    ComfyProcess p = process("sleep 60");
    p.start();
    Semaphore told = new Semaphore(0);
    p.exitListener(told::release);
    for (int i = 1; i <= 3; i++) {
      p.killTree();
      assertTrue(told.tryAcquire(10, TimeUnit.SECONDS), "exit " + i + " told");
      p.start();
      assertTrue(p.alive());
    }
    assertEquals(4, p.starts());
    assertEquals(0, told.availablePermits(), "each exit told once");
  }

  @Test
  void aListenerSetAfterTheProcessEndedIsToldAtOnce() throws Exception {
    ComfyProcess p = process("true");
    p.start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (p.alive() && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertFalse(p.alive(), "the process ended by itself");
    Thread.sleep(100); // its exit hook has run, with nobody listening
    AtomicInteger told = new AtomicInteger();
    p.exitListener(told::incrementAndGet);
    assertEquals(1, told.get(), "an exit nobody heard is not missed by the listener set after it");
  }
}
