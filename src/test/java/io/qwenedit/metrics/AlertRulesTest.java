package io.qwenedit.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The shipped alert rules name only documented metrics, and every alert is explained in docs/operations.md. */
class AlertRulesTest {
  @Test
  void everyAlertUsesDocumentedMetricsAndIsExplained() throws Exception {
    String rules = Files.readString(Path.of("conf/prometheus/qwenedit-alerts.yml"));
    String metricsDoc = Files.readString(Path.of("docs/metrics.md"));
    String operations = Files.readString(Path.of("docs/operations.md"));
    Set<String> metrics = new TreeSet<>();
    Matcher m = Pattern.compile("\\b(qwenedit_[a-z_]+)").matcher(rules);
    while (m.find()) {
      metrics.add(m.group(1).replaceAll("_(bucket|count|sum)$", ""));
    }
    Set<String> alerts = new TreeSet<>();
    Matcher a = Pattern.compile("- alert: (\\w+)").matcher(rules);
    while (a.find()) {
      alerts.add(a.group(1));
    }
    List<String> problems = new ArrayList<>();
    metrics.stream().filter(x -> !metricsDoc.contains("`" + x + "`")).forEach(x -> problems.add(x + " is not in docs/metrics.md"));
    alerts.stream().filter(x -> !operations.contains("`" + x + "`")).forEach(x -> problems.add(x + " is not explained in docs/operations.md"));
    assertEquals(List.of(), problems);
    assertTrue(alerts.size() >= 10 && metrics.size() >= 10, alerts + " " + metrics);
  }
}
