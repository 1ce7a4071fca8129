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

/**
 * The exit listeners of a ComfyUI process, with real child processes (a keeper restarts ComfyUI through them; each
 * keeper the supervisor deploys adds one at start and removes it at stop).
 */
class ComfyProcessTest {
  /** The JDK runs exit hooks one after the other on a thread of its own: time for a late or stale one to show. */
  private static final long SETTLE_MS = 300;

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
  void aRemovedListenerIsNoLongerTold() throws Exception {
    // keepers replaced one after the other: the stopped ones must not pile up and be told as well
    ComfyProcess p = process("sleep 60");
    p.start();
    AtomicInteger stopped = new AtomicInteger();
    Semaphore live = new Semaphore(0);
    Runnable old = stopped::incrementAndGet;
    p.addExitListener(old);
    p.addExitListener(live::release);
    p.removeExitListener(old);
    p.killTree();
    assertTrue(live.tryAcquire(10, TimeUnit.SECONDS), "the listener still added is told the process ended");
    Thread.sleep(SETTLE_MS);
    assertEquals(0, stopped.get(), "the removed listener is not told");
    assertEquals(0, live.availablePermits(), "told once");
  }

  @Test
  void aListenerAddedBeforeTheFirstStartIsToldOfEveryProcessStartedAgain() throws Exception {
    ComfyProcess p = process("sleep 60");
    Semaphore told = new Semaphore(0);
    p.addExitListener(told::release);
    assertEquals(0, told.availablePermits(), "nothing started, nothing ended");
    p.start();
    for (int i = 1; i <= 3; i++) {
      p.killTree();
      assertTrue(told.tryAcquire(10, TimeUnit.SECONDS), "exit " + i + " told");
      p.start();
      assertTrue(p.alive());
    }
    Thread.sleep(SETTLE_MS);
    assertEquals(4, p.starts());
    assertEquals(0, told.availablePermits(), "each exit told once");
  }

  @Test
  void aListenerAddedAfterTheProcessEndedIsToldAtOnce() throws Exception {
    ComfyProcess p = process("true");
    p.start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (p.alive() && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertFalse(p.alive(), "the process ended by itself");
    AtomicInteger told = new AtomicInteger();
    p.addExitListener(told::incrementAndGet);
    // at once, on this thread (the JDK's own hook may tell it too if it runs only now: at least once, not "exactly")
    assertTrue(told.get() >= 1, "an exit nobody may have heard is not missed by a listener added after it");
  }
}
