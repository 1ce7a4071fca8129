package io.qwenedit.emulator;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * A fault script: what goes wrong, and when. Prompt faults are drawn when a prompt starts executing (a given ordinal
 * from {@code schedule}, else the next entry of {@code next}, else {@code always}, else by probability from
 * {@code random}); HTTP faults are matched against each request. The format is documented in docs/comfyui.md.
 */
final class Faults {
  static final Set<String> PROMPT_FAULTS = Set.of("none", "hang", "wedge", "error", "drop_socket");
  static final Set<String> HTTP_FAULTS = Set.of("http_500", "slow", "garbage", "close");

  /** Something that happens to one prompt while it runs. */
  record PromptFault(String kind, String node, Integer atStep, boolean interruptible, String exceptionType, String exceptionMessage,
      long refuseReconnectMs, JsonObject source) {
    static final PromptFault NONE = new PromptFault("none", null, null, true, null, null, 0, new JsonObject().put("fault", "none"));

    boolean none() {
      return "none".equals(kind);
    }
  }

  /** Something that happens to matching HTTP requests. */
  static final class HttpFault {
    final String kind;
    final String endpoint;
    final String method;
    Integer remaining;
    final double probability;
    final long delayMs;
    final JsonObject source;

    HttpFault(String kind, String endpoint, String method, Integer remaining, double probability, long delayMs, JsonObject source) {
      this.kind = kind;
      this.endpoint = endpoint;
      this.method = method;
      this.remaining = remaining;
      this.probability = probability;
      this.delayMs = delayMs;
      this.source = source;
    }

    boolean matches(String m, String path) {
      return (method == null || method.equalsIgnoreCase(m)) && (endpoint == null || "*".equals(endpoint) || path.startsWith(endpoint));
    }
  }

  private final Map<Integer, PromptFault> schedule = new HashMap<>();
  private final Deque<PromptFault> next = new ArrayDeque<>();
  private PromptFault always;
  private final List<PromptFault> random = new ArrayList<>();
  private final List<Double> randomP = new ArrayList<>();
  private final List<HttpFault> http = new ArrayList<>();

  static Faults empty() {
    return new Faults();
  }

  /** Parses a script; throws IllegalArgumentException with a message naming the bad part. */
  static Faults parse(JsonObject script) {
    Faults f = new Faults();
    for (String key : script.fieldNames()) {
      if (!Set.of("next", "schedule", "always", "random", "http").contains(key) && !key.startsWith("_")) {
        throw new IllegalArgumentException("unknown key \"" + key + "\" in the fault script (known: next, schedule, always, random, http)");
      }
    }
    JsonArray next = array(script, "next");
    for (int i = 0; i < next.size(); i++) {
      f.next.add(promptFault(object(next.getValue(i), "next[" + i + "]"), "next[" + i + "]"));
    }
    Object schedule = script.getValue("schedule");
    if (schedule != null) {
      if (!(schedule instanceof JsonObject s)) {
        throw new IllegalArgumentException("\"schedule\" must be an object like {\"3\": {\"fault\": \"hang\"}} (keyed by the prompt's ordinal, 1 = first prompt run)");
      }
      for (String k : s.fieldNames()) {
        int ordinal;
        try {
          ordinal = Integer.parseInt(k);
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("\"schedule\" key \"" + k + "\" is not a prompt ordinal (1, 2, 3, ...)");
        }
        f.schedule.put(ordinal, promptFault(object(s.getValue(k), "schedule." + k), "schedule." + k));
      }
    }
    if (script.getValue("always") != null) {
      f.always = promptFault(object(script.getValue("always"), "always"), "always");
    }
    JsonArray random = array(script, "random");
    for (int i = 0; i < random.size(); i++) {
      JsonObject o = object(random.getValue(i), "random[" + i + "]");
      double p = probability(o, "random[" + i + "]", null);
      f.random.add(promptFault(o, "random[" + i + "]"));
      f.randomP.add(p);
    }
    JsonArray http = array(script, "http");
    for (int i = 0; i < http.size(); i++) {
      f.http.add(httpFault(object(http.getValue(i), "http[" + i + "]"), "http[" + i + "]"));
    }
    return f;
  }

  private static JsonArray array(JsonObject script, String key) {
    Object v = script.getValue(key);
    if (v == null) {
      return new JsonArray();
    }
    if (!(v instanceof JsonArray a)) {
      throw new IllegalArgumentException("\"" + key + "\" must be a list of faults");
    }
    return a;
  }

  private static JsonObject object(Object v, String where) {
    if (!(v instanceof JsonObject o)) {
      throw new IllegalArgumentException(where + " must be an object like {\"fault\": \"hang\"}");
    }
    return o;
  }

  private static double probability(JsonObject o, String where, Double fallback) {
    Object p = o.getValue("p");
    if (p == null) {
      if (fallback != null) {
        return fallback;
      }
      throw new IllegalArgumentException(where + " needs \"p\", a probability from 0 to 1");
    }
    if (!(p instanceof Number n) || n.doubleValue() < 0 || n.doubleValue() > 1) {
      throw new IllegalArgumentException(where + ": \"p\" must be a probability from 0 to 1, not " + p);
    }
    return n.doubleValue();
  }

  static PromptFault promptFault(JsonObject o, String where) {
    String kind = o.getString("fault");
    if (kind == null || !PROMPT_FAULTS.contains(kind)) {
      throw new IllegalArgumentException(where + ": \"fault\" must be one of " + String.join(", ", PROMPT_FAULTS.stream().sorted().toList())
          + (kind != null && HTTP_FAULTS.contains(kind) ? " (" + kind + " is an HTTP fault: put it in \"http\")" : "") + ", not " + kind);
    }
    Object node = o.getValue("node");
    Object atStep = o.getValue("at_step");
    if (atStep != null && !(atStep instanceof Number)) {
      throw new IllegalArgumentException(where + ": \"at_step\" must be a step number");
    }
    Object refuse = o.getValue("refuse_reconnect_ms", 0);
    if (!(refuse instanceof Number)) {
      throw new IllegalArgumentException(where + ": \"refuse_reconnect_ms\" must be a number of milliseconds");
    }
    return new PromptFault(kind, node == null ? null : String.valueOf(node), atStep == null ? null : ((Number) atStep).intValue(),
        o.getBoolean("interruptible", true), o.getString("exception_type"), o.getString("exception_message"),
        ((Number) refuse).longValue(), o.copy());
  }

  static HttpFault httpFault(JsonObject o, String where) {
    String kind = o.getString("fault");
    if (kind == null || !HTTP_FAULTS.contains(kind)) {
      throw new IllegalArgumentException(where + ": \"fault\" must be one of " + String.join(", ", HTTP_FAULTS.stream().sorted().toList()) + ", not " + kind);
    }
    Object times = o.getValue("times");
    if (times != null && !(times instanceof Number)) {
      throw new IllegalArgumentException(where + ": \"times\" must be a number of requests");
    }
    Object delay = o.getValue("delay_ms", "slow".equals(kind) ? 1000 : 0);
    if (!(delay instanceof Number)) {
      throw new IllegalArgumentException(where + ": \"delay_ms\" must be a number of milliseconds");
    }
    String endpoint = o.getString("endpoint");
    if (endpoint != null && endpoint.startsWith("/api/")) {
      endpoint = endpoint.substring(4);
    }
    return new HttpFault(kind, endpoint, o.getString("method"), times == null ? null : ((Number) times).intValue(),
        probability(o, where, 1.0), ((Number) delay).longValue(), o.copy());
  }

  /** The fault for the {@code ordinal}-th prompt to start (1-based). */
  PromptFault forPrompt(int ordinal, Random rnd) {
    PromptFault scheduled = schedule.remove(ordinal);
    if (scheduled != null) {
      return scheduled;
    }
    if (!next.isEmpty()) {
      return next.poll();
    }
    if (always != null) {
      return always;
    }
    for (int i = 0; i < random.size(); i++) {
      if (rnd.nextDouble() < randomP.get(i)) {
        return random.get(i);
      }
    }
    return PromptFault.NONE;
  }

  /** The HTTP fault for this request, if any (counted against its {@code times}). */
  HttpFault forRequest(String method, String path, Random rnd) {
    for (HttpFault f : http) {
      if (f.matches(method, path) && (f.remaining == null || f.remaining > 0) && rnd.nextDouble() < f.probability) {
        if (f.remaining != null) {
          f.remaining--;
        }
        return f;
      }
    }
    return null;
  }

  JsonObject toJson() {
    JsonObject out = new JsonObject();
    JsonArray n = new JsonArray();
    next.forEach(f -> n.add(f.source()));
    out.put("next", n);
    JsonObject s = new JsonObject();
    schedule.forEach((k, v) -> s.put(String.valueOf(k), v.source()));
    out.put("schedule", s);
    out.put("always", always == null ? null : always.source());
    JsonArray r = new JsonArray();
    random.forEach(f -> r.add(f.source()));
    out.put("random", r);
    JsonArray h = new JsonArray();
    http.forEach(f -> h.add(f.source.copy().put("remaining", f.remaining)));
    out.put("http", h);
    return out;
  }
}
