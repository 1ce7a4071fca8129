package io.qwenedit.cli;

import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * Graceful stop on SIGTERM (service managers) and SIGINT (Ctrl+C, also on Windows): runs the role's shutdown once,
 * then exits 0. A second signal while stopping exits at once. Without signal support, a shutdown hook does the same.
 */
public final class Shutdown {
  private static final Logger LOG = LoggerFactory.getLogger(Shutdown.class);

  /** The work a graceful stop does; may block (it runs on its own thread). */
  public interface Action {
    void run() throws Exception;
  }

  private Shutdown() {}

  public static void onSignal(Action action) {
    AtomicBoolean started = new AtomicBoolean();
    Runnable stop = () -> {
      if (!started.compareAndSet(false, true)) {
        LOG.warn("second stop signal: exiting now");
        Runtime.getRuntime().halt(1);
      }
      Thread t = new Thread(() -> {
        try {
          action.run();
          LOG.info("stopped cleanly");
          Runtime.getRuntime().halt(0);
        } catch (Throwable e) {
          LOG.error("shutdown did not finish cleanly: {}", e.toString());
          Runtime.getRuntime().halt(1);
        }
      }, "qwenedit-shutdown");
      t.start();
    };
    boolean handled = false;
    for (String sig : new String[] {"TERM", "INT"}) {
      try {
        Signal.handle(new Signal(sig), s -> stop.run());
        handled = true;
      } catch (IllegalArgumentException e) {
        // this platform has no such signal
      }
    }
    if (!handled) {
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        stop.run();
        try {
          Thread.sleep(Long.MAX_VALUE);
        } catch (InterruptedException ignored) {
          // the halt in the stop thread ends the process
        }
      }));
    }
  }
}
