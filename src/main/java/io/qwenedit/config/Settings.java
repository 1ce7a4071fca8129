package io.qwenedit.config;

import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Raw setting values with where each came from, and typed, validated readers. Every reader throws a
 * {@link ConfigException} whose one line names the setting, the value, its source and what is allowed.
 */
public final class Settings {
  /** One raw value and where it was read from ("conf/config.json", ".env", "environment", ...). */
  public record Value(String text, String source) {}

  private final Map<String, Value> values;
  private final Set<String> read = new HashSet<>();

  public Settings(Map<String, Value> values) {
    this.values = new LinkedHashMap<>(values);
  }

  /** Layers sources in order: later layers override earlier ones. */
  public static Settings layered(List<Map<String, String>> layers, List<String> sourceNames) {
    Map<String, Value> merged = new LinkedHashMap<>();
    for (int i = 0; i < layers.size(); i++) {
      String source = sourceNames.get(i);
      layers.get(i).forEach((k, v) -> {
        if (v != null) {
          merged.put(k, new Value(v, source));
        }
      });
    }
    return new Settings(merged);
  }

  /** Flattens a config.json object (strings, numbers, booleans; null means "not set") into raw text values. */
  public static Map<String, String> fromJson(JsonObject json, String fileName) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String key : json.fieldNames()) {
      Object v = json.getValue(key);
      if (key.startsWith("_")) {
        continue; // "_comment" style keys document the file
      }
      if (v == null) {
        continue;
      }
      if (v instanceof JsonObject || v instanceof io.vertx.core.json.JsonArray) {
        throw new ConfigException(fileName + ": setting " + key + " must be a string, number or boolean, not " + v);
      }
      out.put(key, String.valueOf(v));
    }
    return out;
  }

  public boolean isSet(String name) {
    Value v = values.get(name);
    return v != null && !v.text().isBlank();
  }

  public String source(String name) {
    Value v = values.get(name);
    return v == null ? "default" : v.source();
  }

  /** Keys given in files we own (config.json, .env) that no reader asked for: likely typos. */
  public List<String> unusedFileKeys() {
    List<String> out = new ArrayList<>();
    values.forEach((k, v) -> {
      if (!read.contains(k) && !"environment".equals(v.source())) {
        out.add(k + " (in " + v.source() + ")");
      }
    });
    return out;
  }

  private String raw(String name) {
    read.add(name);
    Value v = values.get(name);
    return v == null ? null : v.text().strip();
  }

  private ConfigException invalid(String name, String value, String allowed) {
    return new ConfigException("Invalid setting " + name + "=\"" + value + "\" (from " + source(name) + "): " + allowed);
  }

  public String string(String name, String fallback) {
    String v = raw(name);
    return v == null || v.isEmpty() ? fallback : v;
  }

  /** A required non-empty string. */
  public String requiredString(String name) {
    String v = raw(name);
    if (v == null || v.isEmpty()) {
      throw new ConfigException("Missing setting " + name + ": it must be set (in conf/config.json, .env or the environment)");
    }
    return v;
  }

  public long integer(String name, long fallback, long min, long max) {
    String v = raw(name);
    if (v == null || v.isEmpty()) {
      return fallback;
    }
    try {
      long n = Long.parseLong(v);
      if (n < min || n > max) {
        throw invalid(name, v, "expected a whole number from " + min + " to " + max);
      }
      return n;
    } catch (NumberFormatException e) {
      throw invalid(name, v, "expected a whole number from " + min + " to " + max);
    }
  }

  public int port(String name, int fallback) {
    return (int) integer(name, fallback, 1, 65535);
  }

  /**
   * A duration given in seconds, decimals allowed ("0.5"), optionally with a unit suffix (ms, s, m, h). Zero is
   * allowed only when {@code allowZero}.
   */
  public Duration seconds(String name, Duration fallback, Duration min, Duration max) {
    String v = raw(name);
    if (v == null || v.isEmpty()) {
      return fallback;
    }
    String allowed = "expected a number of seconds from " + human(min) + " to " + human(max) + " (e.g. 5, 0.5, 250ms, 2m)";
    Duration d;
    try {
      d = parseDuration(v);
    } catch (IllegalArgumentException e) {
      throw invalid(name, v, allowed);
    }
    if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
      throw invalid(name, v, allowed);
    }
    return d;
  }

  static Duration parseDuration(String text) {
    String t = text.strip().toLowerCase(Locale.ROOT);
    double factorMs = 1000;
    if (t.endsWith("ms")) {
      factorMs = 1;
      t = t.substring(0, t.length() - 2);
    } else if (t.endsWith("s")) {
      t = t.substring(0, t.length() - 1);
    } else if (t.endsWith("m")) {
      factorMs = 60_000;
      t = t.substring(0, t.length() - 1);
    } else if (t.endsWith("h")) {
      factorMs = 3_600_000;
      t = t.substring(0, t.length() - 1);
    }
    double n = Double.parseDouble(t.strip());
    if (Double.isNaN(n) || Double.isInfinite(n)) {
      throw new IllegalArgumentException(text);
    }
    return Duration.ofMillis(Math.round(n * factorMs));
  }

  /** A duration as a person writes it in a setting: 1h, 30s, 250ms. */
  public static String human(Duration d) {
    long ms = d.toMillis();
    if (ms % 3_600_000 == 0 && ms >= 3_600_000) {
      return (ms / 3_600_000) + "h";
    }
    if (ms % 1000 == 0) {
      return (ms / 1000) + "s";
    }
    return ms + "ms";
  }

  public boolean bool(String name, boolean fallback) {
    String v = raw(name);
    if (v == null || v.isEmpty()) {
      return fallback;
    }
    switch (v.toLowerCase(Locale.ROOT)) {
      case "1": case "true": case "yes": case "on":
        return true;
      case "0": case "false": case "no": case "off":
        return false;
      default:
        throw invalid(name, v, "expected true or false");
    }
  }

  public String choice(String name, String fallback, String... allowed) {
    String v = raw(name);
    if (v == null || v.isEmpty()) {
      return fallback;
    }
    for (String a : allowed) {
      if (a.equalsIgnoreCase(v)) {
        return a;
      }
    }
    throw invalid(name, v, "expected one of " + String.join(", ", allowed));
  }

  /** An absolute URL whose scheme is one of {@code schemes}; null when unset and no fallback. */
  public URI url(String name, String fallback, String... schemes) {
    String v = raw(name);
    if (v == null || v.isEmpty()) {
      v = fallback;
      if (v == null) {
        return null;
      }
    }
    return parseUrl(name, v, schemes);
  }

  URI parseUrl(String name, String v, String... schemes) {
    String allowed = "expected a URL starting with " + String.join("://, ", schemes) + "://";
    try {
      URI uri = new URI(v);
      String scheme = uri.getScheme();
      if (scheme == null || Arrays.stream(schemes).noneMatch(s -> s.equalsIgnoreCase(scheme))) {
        throw invalid(name, v, allowed);
      }
      if (!"unix".equalsIgnoreCase(scheme) && (uri.getHost() == null || uri.getHost().isEmpty())) {
        throw invalid(name, v, allowed + " with a host name");
      }
      return uri;
    } catch (URISyntaxException e) {
      throw invalid(name, v, allowed);
    }
  }

  /** A comma-separated list of URLs (blank entries ignored). Empty list when unset. */
  public List<URI> urlList(String name, String... schemes) {
    String v = raw(name);
    List<URI> out = new ArrayList<>();
    if (v == null || v.isEmpty()) {
      return out;
    }
    for (String part : v.split(",")) {
      if (!part.isBlank()) {
        out.add(parseUrl(name, part.strip(), schemes));
      }
    }
    return out;
  }

  /** A comma-separated list of strings (blank entries ignored). */
  public List<String> list(String name) {
    String v = raw(name);
    List<String> out = new ArrayList<>();
    if (v != null) {
      for (String part : v.split(",")) {
        if (!part.isBlank()) {
          out.add(part.strip());
        }
      }
    }
    return out;
  }

  /** The same settings without {@code name}: its reader then falls back to its default (for diagnostics). */
  public Settings without(String name) {
    Map<String, Value> copy = new LinkedHashMap<>(values);
    copy.remove(name);
    return new Settings(copy);
  }

  /** Names of every setting that has a value, sorted (for diagnostics). */
  public Set<String> names() {
    return new TreeSet<>(values.keySet());
  }
}
