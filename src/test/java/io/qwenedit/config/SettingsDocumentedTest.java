package io.qwenedit.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Every setting in conf/config.json is explained in docs/configuration.md and listed in conf/.env.example, and no more. */
class SettingsDocumentedTest {
  private static Set<String> shippedKeys() throws Exception {
    JsonObject json = new JsonObject(Files.readString(Path.of("conf/config.json")));
    Set<String> keys = new LinkedHashSet<>();
    json.fieldNames().stream().filter(k -> !k.startsWith("_")).forEach(keys::add);
    return keys;
  }

  private static Set<String> matches(Path file, String regex) throws Exception {
    Set<String> out = new LinkedHashSet<>();
    Matcher m = Pattern.compile(regex, Pattern.MULTILINE).matcher(Files.readString(file));
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }

  @Test
  void everyShippedSettingIsDocumentedAndInTheEnvExample() throws Exception {
    Set<String> shipped = shippedKeys();
    Set<String> documented = matches(Path.of("docs/configuration.md"), "^\\| `([A-Z][A-Z0-9_]*)` \\|");
    Set<String> example = matches(Path.of("conf/.env.example"), "^#?([A-Z][A-Z0-9_]*)=");
    List<String> problems = new ArrayList<>();
    for (String k : shipped) {
      if (!documented.contains(k)) {
        problems.add(k + " is in conf/config.json but has no row in docs/configuration.md");
      }
      if (!example.contains(k)) {
        problems.add(k + " is in conf/config.json but not in conf/.env.example");
      }
    }
    for (String k : documented) {
      if (!shipped.contains(k)) {
        problems.add(k + " is documented in docs/configuration.md but has no default in conf/config.json");
      }
    }
    for (String k : example) {
      if (!shipped.contains(k)) {
        problems.add(k + " is in conf/.env.example but not in conf/config.json");
      }
    }
    assertEquals(List.of(), problems);
    assertTrue(shipped.size() > 50, "the shipped config was read: " + shipped.size() + " keys");
  }

  @Test
  void theEnvExampleShowsTheShippedDefaults() throws Exception {
    JsonObject json = new JsonObject(Files.readString(Path.of("conf/config.json")));
    Matcher m = Pattern.compile("^#([A-Z][A-Z0-9_]*)=(.*)$", Pattern.MULTILINE).matcher(Files.readString(Path.of("conf/.env.example")));
    List<String> problems = new ArrayList<>();
    while (m.find()) {
      Object shipped = json.getValue(m.group(1));
      String expected = shipped == null ? "" : String.valueOf(shipped);
      if (!expected.equals(m.group(2))) {
        problems.add(m.group(1) + " is " + m.group(2) + " in conf/.env.example but " + expected + " in conf/config.json");
      }
    }
    assertEquals(List.of(), problems);
  }

  @Test
  void theEnvExampleChangesNothingUntilALineIsUncommented() throws Exception {
    Map<String, String> values = DotEnv.read(Path.of("conf/.env.example"));
    assertEquals(Map.of(), values, "every setting line is commented out");
  }
}
