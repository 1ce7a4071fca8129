package io.qwenedit.emulator;

import io.qwenedit.emulator.NodeCatalog.Input;
import io.qwenedit.emulator.NodeCatalog.NodeClass;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * Validates an API-format graph the way ComfyUI's {@code validate_prompt} does for the classes in {@link NodeCatalog}:
 * the same error types, messages, details and {@code node_errors} layout, including its quirk that an error in an
 * upstream node leaves the top-level {@code details} empty and shows up only in {@code node_errors}.
 */
final class PromptValidator {

  /** The outcome: {@code error} is null when at least one output validated. */
  record Result(JsonObject error, JsonObject nodeErrors, List<String> goodOutputs) {
    boolean accepted() {
      return error == null;
    }
  }

  private record Checked(boolean valid, JsonArray errors) {}

  private final JsonObject graph;
  private final Function<String, List<String>> files;
  private final Predicate<String> inputFileExists;
  private final Map<String, Checked> validated = new HashMap<>();

  private PromptValidator(JsonObject graph, Function<String, List<String>> files, Predicate<String> inputFileExists) {
    this.graph = graph;
    this.files = files;
    this.inputFileExists = inputFileExists;
  }

  /**
   * @param files the file list of a model folder, or of "input" (uploads)
   * @param inputFileExists whether LoadImage's value names an uploaded file (subfolder and annotation allowed)
   */
  static Result validate(JsonObject graph, Function<String, List<String>> files, Predicate<String> inputFileExists) {
    return new PromptValidator(graph, files, inputFileExists).run();
  }

  static JsonObject error(String type, String message, String details, JsonObject extraInfo) {
    return new JsonObject().put("type", type).put("message", message).put("details", details).put("extra_info", extraInfo);
  }

  private Result run() {
    List<String> outputs = new ArrayList<>();
    for (String id : graph.fieldNames()) {
      Object n = graph.getValue(id);
      JsonObject node = n instanceof JsonObject o ? o : new JsonObject();
      String title = node.getJsonObject("_meta") != null ? node.getJsonObject("_meta").getString("title", id) : id;
      Object ct = node.getValue("class_type");
      if (!(ct instanceof String classType)) {
        return failed(error("missing_node_type", "Node '" + title + "' has no class_type. The workflow may be corrupted or a custom node is missing.",
            "Node ID '#" + id + "'", new JsonObject().put("node_id", id).putNull("class_type").put("node_title", title)));
      }
      NodeClass c = NodeCatalog.get(classType);
      if (c == null) {
        return failed(error("missing_node_type", "Node '" + title + "' not found. The custom node may not be installed.",
            "Node ID '#" + id + "'", new JsonObject().put("node_id", id).put("class_type", classType).put("node_title", title)));
      }
      if (c.outputNode()) {
        outputs.add(id);
      }
    }
    if (outputs.isEmpty()) {
      return failed(error("prompt_no_outputs", "Prompt has no outputs", "", new JsonObject()));
    }
    List<String> good = new ArrayList<>();
    List<String> reasonsText = new ArrayList<>();
    JsonObject nodeErrors = new JsonObject();
    for (String o : outputs) {
      Checked r = check(o, new ArrayList<>());
      if (r.valid()) {
        good.add(o);
        continue;
      }
      for (int i = 0; i < r.errors().size(); i++) {
        JsonObject e = r.errors().getJsonObject(i);
        reasonsText.add(e.getString("message") + ": " + e.getString("details"));
      }
      for (Map.Entry<String, Checked> v : validated.entrySet()) {
        if (!v.getValue().valid() && !v.getValue().errors().isEmpty()) {
          JsonObject entry = nodeErrors.getJsonObject(v.getKey());
          if (entry == null) {
            entry = new JsonObject().put("errors", v.getValue().errors()).put("dependent_outputs", new JsonArray())
                .put("class_type", graph.getJsonObject(v.getKey()).getString("class_type"));
            nodeErrors.put(v.getKey(), entry);
          }
          entry.getJsonArray("dependent_outputs").add(o);
        }
      }
    }
    if (good.isEmpty()) {
      return new Result(error("prompt_outputs_failed_validation", "Prompt outputs failed validation",
          String.join("\n", reasonsText), new JsonObject()), nodeErrors, List.of());
    }
    return new Result(null, nodeErrors, good);
  }

  private static Result failed(JsonObject error) {
    return new Result(error, new JsonObject(), List.of());
  }

  private Checked check(String id, List<String> path) {
    Checked done = validated.get(id);
    if (done != null) {
      return done;
    }
    JsonObject node = graph.getJsonObject(id);
    NodeClass c = NodeCatalog.get(node.getString("class_type"));
    JsonObject inputs = node.getJsonObject("inputs") == null ? new JsonObject() : node.getJsonObject("inputs");
    JsonArray errors = new JsonArray();
    boolean valid = true;
    if (path.contains(id)) {
      Checked cyc = new Checked(false, new JsonArray().add(error("dependency_cycle", "Dependency cycle detected",
          "Node " + id + " depends on itself through " + String.join(" -> ", path), new JsonObject())));
      validated.put(id, cyc);
      return cyc;
    }
    path.add(id);
    for (Input in : c.inputs()) {
      if (!inputs.containsKey(in.name())) {
        if (in.required()) {
          errors.add(error("required_input_missing", "Required input is missing", in.name(), new JsonObject().put("input_name", in.name())));
        }
        continue;
      }
      Object val = inputs.getValue(in.name());
      if (val instanceof JsonArray link) {
        if (badLink(in, link, errors)) {
          continue;
        }
        Checked upstream = check(String.valueOf(link.getValue(0)), path);
        if (!upstream.valid()) {
          valid = false;
        }
        continue;
      }
      if (val instanceof JsonObject wrapped && wrapped.containsKey("__value__")) {
        val = wrapped.getValue("__value__");
      }
      if (in.isLink()) {
        errors.add(error("bad_linked_input", "Bad linked input, must be a length-2 list of [node_id, slot_index]", in.name(),
            new JsonObject().put("input_name", in.name()).put("received_value", val)));
        continue;
      }
      literal(in, val, errors);
    }
    if ("LoadImage".equals(c.name()) && inputs.getValue("image") instanceof String image && !inputFileExists.test(image)) {
      errors.add(error("custom_validation_failed", "Custom validation failed for node", "image - Invalid image file: " + image,
          new JsonObject().put("input_name", "image")));
    }
    path.remove(path.size() - 1);
    Checked result = new Checked(errors.isEmpty() && valid, errors);
    validated.put(id, result);
    return result;
  }

  /** Adds the error and answers true when the link is malformed, points at no known node or slot, or does not fit. */
  private boolean badLink(Input in, JsonArray link, JsonArray errors) {
    NodeClass sc = linkSource(link);
    int slot = sc == null ? -1 : ((Number) link.getValue(1)).intValue();
    if (sc == null || slot < 0 || slot >= sc.outputs().size()) {
      errors.add(error("bad_linked_input", "Bad linked input, must be a length-2 list of [node_id, slot_index]", in.name(),
          new JsonObject().put("input_name", in.name()).put("received_value", link)));
      return true;
    }
    String received = sc.outputs().get(slot);
    if (!in.isLink() || !received.equals(in.type())) {
      errors.add(error("return_type_mismatch", "Return type mismatch between linked nodes",
          in.name() + ", " + received + " != " + in.type(),
          new JsonObject().put("input_name", in.name()).put("received_type", received).put("linked_node", link)));
      return true;
    }
    return false;
  }

  /** The class of the node a {@code [node_id, slot_index]} link comes from; null when malformed or unknown. */
  private NodeClass linkSource(JsonArray link) {
    if (link.size() != 2 || !(link.getValue(1) instanceof Number)
        || !(graph.getValue(String.valueOf(link.getValue(0))) instanceof JsonObject source)) {
      return null;
    }
    return NodeCatalog.get(source.getString("class_type"));
  }

  private void literal(Input in, Object val, JsonArray errors) {
    JsonObject info = new JsonObject().put("input_name", in.name()).put("input_config", NodeCatalog.spec(in, files)).put("received_value", val);
    BigDecimal number = null;
    switch (in.type()) {
      case "INT", "FLOAT" -> {
        number = toNumber(val, "INT".equals(in.type()));
        if (number == null) {
          errors.add(error("invalid_input_type", "Failed to convert an input value to a " + in.type() + " value",
              in.name() + ", " + val + ", " + conversionMessage(val, in.type()), info.copy().put("exception_message", conversionMessage(val, in.type()))));
          return;
        }
      }
      case "COMBO" -> {
        if ("input".equals(in.folder())) {
          return; // LoadImage checks its file itself (custom validation), as in ComfyUI
        }
        List<String> choices = NodeCatalog.choices(in, files);
        if (!(val instanceof String s) || !choices.contains(s)) {
          String list = choices.size() > 20 ? "(list of length " + choices.size() + ")" : pythonList(choices);
          JsonObject ei = new JsonObject().put("input_name", in.name()).put("received_value", val);
          if (choices.size() > 20) {
            ei.putNull("input_config");
          } else {
            ei.put("input_config", NodeCatalog.spec(in, files));
          }
          errors.add(error("value_not_in_list", "Value not in list", in.name() + ": '" + val + "' not in " + list, ei));
        }
        return;
      }
      default -> {
        return;
      }
    }
    Object min = in.options().getValue("min");
    Object max = in.options().getValue("max");
    if (min != null && number.compareTo(new BigDecimal(min.toString())) < 0) {
      errors.add(error("value_smaller_than_min", "Value " + show(number, in.type()) + " smaller than min of " + min, in.name(), info));
    } else if (max != null && number.compareTo(new BigDecimal(max.toString())) > 0) {
      errors.add(error("value_bigger_than_max", "Value " + show(number, in.type()) + " bigger than max of " + max, in.name(), info));
    }
  }

  private static String show(BigDecimal n, String type) {
    return "INT".equals(type) ? n.toBigInteger().toString() : String.valueOf(n.doubleValue());
  }

  /** Python's int()/float() acceptance: numbers, booleans and numeric strings. */
  static BigDecimal toNumber(Object val, boolean integer) {
    try {
      if (val instanceof Boolean b) {
        return b ? BigDecimal.ONE : BigDecimal.ZERO;
      }
      if (val instanceof Number n) {
        BigDecimal d = new BigDecimal(n.toString());
        return integer ? new BigDecimal(d.toBigInteger()) : d;
      }
      if (val instanceof String s) {
        String t = s.strip();
        if (integer) {
          return new BigDecimal(new java.math.BigInteger(t));
        }
        return new BigDecimal(t);
      }
    } catch (NumberFormatException e) {
      return null;
    }
    return null;
  }

  private static String conversionMessage(Object val, String type) {
    return "INT".equals(type)
        ? "invalid literal for int() with base 10: '" + val + "'"
        : "could not convert string to float: '" + val + "'";
  }

  static String pythonList(List<String> items) {
    return items.stream().map(s -> "'" + s + "'").collect(Collectors.joining(", ", "[", "]"));
  }
}
