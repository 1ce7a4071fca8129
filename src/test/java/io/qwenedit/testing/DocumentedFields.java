package io.qwenedit.testing;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A JSON interface documented as a table in a doc ({@code | `a[].b` | string or null | meaning |} between
 * {@code <!-- name:begin -->} and {@code <!-- name:end -->}), and a check of real output against it in both directions:
 * every documented field is there with its type, and every field there is documented.
 */
public final class DocumentedFields {
  private static final Pattern ROW = Pattern.compile("^\\| `([a-z_\\[\\].]+)` \\| ([a-z ]+) \\|", Pattern.MULTILINE);

  private final Map<String, String> types;

  private DocumentedFields(Map<String, String> types) {
    this.types = types;
  }

  public static DocumentedFields read(Path doc, String name) throws IOException {
    String text = Files.readString(doc);
    int begin = text.indexOf("<!-- " + name + ":begin -->");
    int end = text.indexOf("<!-- " + name + ":end -->");
    if (begin < 0 || end < begin) {
      throw new AssertionError(doc + " has no table marked " + name);
    }
    Map<String, String> types = new LinkedHashMap<>();
    Matcher m = ROW.matcher(text.substring(begin, end));
    while (m.find()) {
      types.put(m.group(1), m.group(2).strip());
    }
    return new DocumentedFields(types);
  }

  public Set<String> paths() {
    return types.keySet();
  }

  /** Problems found comparing {@code actual} with the table (empty when it matches). */
  public List<String> check(JsonObject actual) {
    List<String> problems = new ArrayList<>();
    checkObject(actual, "", problems);
    return problems;
  }

  private void checkObject(JsonObject obj, String prefix, List<String> problems) {
    Set<String> documented = new TreeSet<>();
    for (String path : types.keySet()) {
      if (path.startsWith(prefix) && !path.substring(prefix.length()).contains(".")) {
        documented.add(path.substring(prefix.length()));
      }
    }
    for (String key : obj.fieldNames()) {
      if (!documented.contains(key)) {
        problems.add("field " + prefix + key + " is not documented");
      }
    }
    for (String key : documented) {
      String path = prefix + key;
      if (!obj.containsKey(key)) {
        problems.add("documented field " + path + " is missing");
        continue;
      }
      Object v = obj.getValue(key);
      String type = types.get(path);
      if (!typeMatches(type, v)) {
        problems.add("field " + path + " is " + (v == null ? "null" : v.getClass().getSimpleName() + " " + v) + ", documented as " + type);
        continue;
      }
      if (v instanceof JsonArray arr && hasChildren(path + "[].")) {
        for (Object e : arr) {
          if (e instanceof JsonObject eo) {
            checkObject(eo, path + "[].", problems);
          } else {
            problems.add("an element of " + path + " is not an object: " + e);
          }
        }
      }
    }
  }

  private boolean hasChildren(String prefix) {
    return types.keySet().stream().anyMatch(p -> p.startsWith(prefix));
  }

  private static boolean typeMatches(String type, Object v) {
    if (v == null) {
      return type.endsWith("or null");
    }
    String base = type.replace(" or null", "");
    return switch (base) {
      case "number" -> v instanceof Number;
      case "string" -> v instanceof String;
      case "boolean" -> v instanceof Boolean;
      case "object" -> v instanceof JsonObject;
      case "list" -> v instanceof JsonArray;
      default -> false;
    };
  }
}
