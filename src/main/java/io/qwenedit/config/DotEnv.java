package io.qwenedit.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a {@code .env} file: {@code KEY=value} lines, optional {@code export } prefix, single or double quotes,
 * {@code #} comments and blank lines, as the old Python system's python-dotenv accepted them.
 */
public final class DotEnv {
  private DotEnv() {}

  public static Map<String, String> read(Path file) {
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ConfigException("Cannot read " + file + ": " + e.getMessage());
    }
    return parse(lines, file.toString());
  }

  public static Map<String, String> parse(List<String> lines, String fileName) {
    Map<String, String> out = new LinkedHashMap<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (i == 0 && line.startsWith("\uFEFF")) {
        line = line.substring(1);
      }
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      if (line.startsWith("export ")) {
        line = line.substring("export ".length()).strip();
      }
      int eq = line.indexOf('=');
      String key = eq < 0 ? line : line.substring(0, eq).strip();
      if (eq <= 0 || !key.matches("[A-Za-z_][A-Za-z0-9_]*")) {
        throw new ConfigException(fileName + " line " + (i + 1) + ": expected KEY=value, got \"" + lines.get(i).strip() + "\"");
      }
      out.put(key, unquote(line.substring(eq + 1).strip(), fileName, i + 1));
    }
    return out;
  }

  private static String unquote(String raw, String fileName, int lineNo) {
    if (raw.isEmpty()) {
      return raw;
    }
    char q = raw.charAt(0);
    if (q == '"' || q == '\'') {
      int end = raw.indexOf(q, 1);
      if (end < 0) {
        throw new ConfigException(fileName + " line " + lineNo + ": the value starts with " + q + " but has no closing " + q);
      }
      String inner = raw.substring(1, end);
      return q == '"' ? inner.replace("\\n", "\n").replace("\\\"", "\"") : inner;
    }
    int hash = raw.indexOf(" #");
    return (hash >= 0 ? raw.substring(0, hash) : raw).strip();
  }
}
