package io.qwenedit.api;

import java.util.Arrays;
import java.util.List;

/** Reads one series' value out of a Prometheus text exposition (tests only). */
final class Prometheus {
  private Prometheus() {}

  /**
   * The value of the series named {@code name} carrying every {@code label="value"} pair given (in any order);
   * NaN when absent.
   */
  static double value(String text, String name, String... labels) {
    List<String> wanted = Arrays.stream(labels).toList();
    for (String line : text.split("\n")) {
      if (line.startsWith("#") || !(line.startsWith(name + " ") || line.startsWith(name + "{"))) {
        continue;
      }
      String series = line.substring(0, line.lastIndexOf(' '));
      if (wanted.stream().allMatch(series::contains)) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return Double.NaN;
  }

  static boolean has(String text, String name) {
    return !Double.isNaN(value(text, name)) || text.contains("\n" + name + "{") || text.startsWith(name + "{");
  }
}
