package io.qwenedit.bench;

import java.util.Map;
import java.util.TreeMap;

/** What both benchmarks share: reading their {@code --name N} arguments and taking percentiles of their samples. */
final class Bench {
  private Bench() {}

  /**
   * The whole-number options a benchmark takes ({@code --name N}), each with its default. Anything else, or a value
   * that is not a positive whole number, ends the run with one line that says what is allowed (exit status 2).
   */
  static Map<String, Integer> intArgs(String tool, String[] args, Map<String, Integer> defaults) {
    Map<String, Integer> out = new TreeMap<>(defaults);
    String allowed = String.join(", ", out.keySet().stream().map(n -> n + " N").toList());
    for (int i = 0; i < args.length; i += 2) {
      String name = args[i];
      if (!defaults.containsKey(name)) {
        usage(tool, "unknown option '" + name + "' (allowed: " + allowed + ")");
      }
      if (i + 1 >= args.length) {
        usage(tool, name + " needs a number after it");
      }
      try {
        int v = Integer.parseInt(args[i + 1]);
        if (v < 1) {
          throw new NumberFormatException();
        }
        out.put(name, v);
      } catch (NumberFormatException e) {
        usage(tool, name + " '" + args[i + 1] + "' is not a positive whole number");
      }
    }
    return out;
  }

  /** A benchmark's body. */
  interface Body {
    void run() throws Exception;
  }

  /**
   * Runs a benchmark and ends the process when it is done, 0 or, after one line on stderr, 1: a failure in the middle
   * (or in its clean-up) must not leave the process hanging on the event-loop threads it started.
   */
  static void exitWhenDone(String tool, Body body) {
    int status = 0;
    try {
      body.run();
    } catch (Throwable t) {
      System.err.println(tool + ": failed: " + t);
      status = 1;
    }
    System.out.flush();
    System.exit(status);
  }

  /** Ends the run with one line that says what is wrong (exit status 2). */
  static void usage(String tool, String message) {
    System.err.println(tool + ": " + message);
    System.exit(2);
  }

  /** The nearest-rank percentile {@code p} (0-100) of samples sorted in ascending order. */
  static double percentile(double[] sorted, double p) {
    int idx = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, idx))];
  }
}
