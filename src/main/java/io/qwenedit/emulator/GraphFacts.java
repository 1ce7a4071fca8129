package io.qwenedit.emulator;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * What the emulator needs to know about a validated graph: the order nodes run in, each node's cache signature (class,
 * literal inputs, upstream signatures, and an uploaded file's content hash), and where the edit's ingredients are
 * (the loaded image, the positive prompt, the scale, the sampler and its steps).
 */
final class GraphFacts {
  final List<String> order;
  final Map<String, String> signatures;
  final String imageValue;
  final String prompt;
  final double megapixels;
  final String samplerNode;
  final int samplerSteps;

  private GraphFacts(List<String> order, Map<String, String> signatures, String imageValue, String prompt, double megapixels,
      String samplerNode, int samplerSteps) {
    this.order = order;
    this.signatures = signatures;
    this.imageValue = imageValue;
    this.prompt = prompt;
    this.megapixels = megapixels;
    this.samplerNode = samplerNode;
    this.samplerSteps = samplerSteps;
  }

  /**
   * @param outputs the output nodes to execute
   * @param fileHash content hash of a LoadImage value (ComfyUI's IS_CHANGED for LoadImage), or "" when missing
   */
  static GraphFacts of(JsonObject graph, List<String> outputs, Function<String, String> fileHash) {
    Set<String> needed = new HashSet<>();
    for (String o : outputs) {
      collect(graph, o, needed);
    }
    List<String> order = topological(graph, needed);
    Map<String, String> signatures = new HashMap<>();
    for (String id : order) {
      signatures.put(id, signature(graph, id, signatures, fileHash));
    }
    String image = null;
    String prompt = "";
    double mp = 0;
    String sampler = null;
    int steps = 1;
    for (String id : order) {
      JsonObject n = graph.getJsonObject(id);
      JsonObject in = n.getJsonObject("inputs");
      switch (n.getString("class_type")) {
        case "LoadImage" -> {
          if (image == null && in.getValue("image") instanceof String s) {
            image = s;
          }
        }
        case "ImageScaleToTotalPixels" -> mp = in.getValue("megapixels") instanceof Number num ? num.doubleValue() : 1.0;
        case "FluxKontextImageScale" -> mp = mp == 0 ? 1.0 : mp;
        case "KSampler" -> {
          if (sampler == null) {
            sampler = id;
            steps = in.getValue("steps") instanceof Number num ? num.intValue() : 20;
            if (in.getValue("positive") instanceof JsonArray link) {
              JsonObject pos = graph.getJsonObject(String.valueOf(link.getValue(0)));
              if (pos != null) {
                Object p = pos.getJsonObject("inputs").getValue("prompt");
                prompt = p == null ? "" : String.valueOf(p);
              }
            }
          }
        }
        default -> { }
      }
    }
    return new GraphFacts(order, signatures, image, prompt, mp, sampler, steps);
  }

  private static void collect(JsonObject graph, String id, Set<String> needed) {
    if (!needed.add(id)) {
      return;
    }
    for (String from : upstream(graph, id)) {
      collect(graph, from, needed);
    }
  }

  /** The nodes whose outputs this node takes (its inputs that are {@code [node, slot]} links). */
  private static List<String> upstream(JsonObject graph, String id) {
    List<String> from = new ArrayList<>();
    JsonObject inputs = graph.getJsonObject(id).getJsonObject("inputs");
    for (String k : inputs.fieldNames()) {
      if (inputs.getValue(k) instanceof JsonArray link && link.size() == 2) {
        from.add(String.valueOf(link.getValue(0)));
      }
    }
    return from;
  }

  /** Kahn's algorithm, ties broken by numeric node id, so runs are reproducible. */
  private static List<String> topological(JsonObject graph, Set<String> needed) {
    Map<String, Set<String>> deps = new LinkedHashMap<>();
    for (String id : needed) {
      deps.put(id, new HashSet<>(upstream(graph, id)));
    }
    List<String> order = new ArrayList<>();
    TreeSet<String> ready = new TreeSet<>(GraphFacts::compareIds);
    deps.forEach((id, d) -> {
      if (d.isEmpty()) {
        ready.add(id);
      }
    });
    while (!ready.isEmpty()) {
      String id = ready.pollFirst();
      order.add(id);
      deps.forEach((other, d) -> {
        if (d.remove(id) && d.isEmpty()) {
          ready.add(other);
        }
      });
    }
    return order;
  }

  static int compareIds(String a, String b) {
    try {
      return Long.compare(Long.parseLong(a), Long.parseLong(b));
    } catch (NumberFormatException e) {
      return a.compareTo(b);
    }
  }

  private static String signature(JsonObject graph, String id, Map<String, String> known, Function<String, String> fileHash) {
    JsonObject n = graph.getJsonObject(id);
    StringBuilder sb = new StringBuilder(n.getString("class_type"));
    JsonObject inputs = n.getJsonObject("inputs");
    for (String k : new TreeSet<>(inputs.fieldNames())) {
      Object v = inputs.getValue(k);
      sb.append('|').append(k).append('=');
      if (v instanceof JsonArray link && link.size() == 2) {
        sb.append('@').append(known.get(String.valueOf(link.getValue(0)))).append(':').append(link.getValue(1));
      } else {
        sb.append(v);
      }
    }
    if ("LoadImage".equals(n.getString("class_type")) && inputs.getValue("image") instanceof String s) {
      sb.append("|sha=").append(fileHash.apply(s));
    }
    return sha(sb.toString());
  }

  static String sha(String s) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
