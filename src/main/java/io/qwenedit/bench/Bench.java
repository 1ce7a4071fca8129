package io.qwenedit.bench;

/** What both benchmarks share: reading their {@code --name N} arguments and taking percentiles of their samples. */
final class Bench {
  private Bench() {}

  static int intArg(String[] args, String name, int fallback) {
    for (int i = 0; i + 1 < args.length; i++) {
      if (args[i].equals(name)) {
        return Integer.parseInt(args[i + 1]);
      }
    }
    return fallback;
  }

  /** The nearest-rank percentile {@code p} (0-100) of samples sorted in ascending order. */
  static double percentile(double[] sorted, double p) {
    int idx = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, idx))];
  }
}
