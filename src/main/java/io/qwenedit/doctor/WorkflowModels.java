package io.qwenedit.doctor;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Compares a workflow graph with what one ComfyUI offers ({@code GET /object_info/<class>} for each node type): node
 * types it does not have (a custom node not installed), and model files or options the graph names that are not in
 * the lists it offers (a model not downloaded). Pure logic, tested without a server.
 */
public final class WorkflowModels {
  /** Where ComfyUI looks for the files of a loader input. */
  private static final Map<String, String> FOLDERS = Map.of("unet_name", "models/diffusion_models", "clip_name", "models/text_encoders",
      "vae_name", "models/vae", "lora_name", "models/loras", "ckpt_name", "models/checkpoints", "control_net_name", "models/controlnet",
      "clip_name1", "models/text_encoders", "clip_name2", "models/text_encoders");

  /**
   * One mismatch.
   *
   * @param offered what ComfyUI offers for that input (empty for a missing node type)
   */
  public record Gap(String node, String classType, String input, String value, List<String> offered) {
    public boolean missingNodeType() {
      return input == null;
    }

    /** A model file (rather than an option such as a sampler name). */
    public boolean modelFile() {
      String v = value == null ? "" : value.toLowerCase(Locale.ROOT);
      return FOLDERS.containsKey(input) || v.matches(".*\\.(safetensors|ckpt|pt|pth|bin|gguf|sft)$");
    }

    public String describe() {
      if (missingNodeType()) {
        return "node type " + classType + " (node " + node + ") is not installed";
      }
      String what = modelFile() ? "model file " + value : "option \"" + value + "\"";
      return what + " (node " + node + " " + classType + ", input " + input + ") is not there; it offers "
          + (offered.isEmpty() ? "nothing" : String.join(", ", offered.subList(0, Math.min(8, offered.size())))
          + (offered.size() > 8 ? ", ..." : ""));
    }

    public String fix() {
      if (missingNodeType()) {
        return "install the custom node that provides " + classType + " (or update ComfyUI), then restart ComfyUI";
      }
      if (modelFile()) {
        return "put " + value + " in ComfyUI's " + FOLDERS.getOrDefault(input, "models") + "/ folder and restart ComfyUI,"
            + " or change the workflow to a file it has";
      }
      return "change input " + input + " of node " + node + " in the workflow to one of the offered values (or update ComfyUI)";
    }
  }

  private WorkflowModels() {}

  /** The node types a graph uses. */
  public static Set<String> classes(JsonObject graph) {
    Set<String> out = new LinkedHashSet<>();
    for (String id : graph.fieldNames()) {
      if (graph.getValue(id) instanceof JsonObject node && node.getString("class_type") != null) {
        out.add(node.getString("class_type"));
      }
    }
    return out;
  }

  /**
   * @param skip inputs that receive a job value ("node/input", e.g. the LoadImage image): not checked
   * @param objectInfo per node type, what {@code /object_info/<class>} answered for it (the class's own object), or
   *     null when ComfyUI does not know the type
   */
  public static List<Gap> compare(JsonObject graph, Set<String> skip, Map<String, JsonObject> objectInfo) {
    List<Gap> gaps = new ArrayList<>();
    for (String id : graph.fieldNames()) {
      if (!(graph.getValue(id) instanceof JsonObject node)) {
        continue;
      }
      String cls = node.getString("class_type");
      JsonObject info = objectInfo.get(cls);
      if (info == null) {
        gaps.add(new Gap(id, cls, null, null, List.of()));
        continue;
      }
      JsonObject inputs = node.getJsonObject("inputs", new JsonObject());
      for (String name : inputs.fieldNames()) {
        if (!(inputs.getValue(name) instanceof String value) || skip.contains(id + "/" + name)) {
          continue; // links ([node, slot]), numbers, and values a job fills in
        }
        List<String> options = options(info, name);
        if (options != null && !options.contains(value)) {
          gaps.add(new Gap(id, cls, name, value, options));
        }
      }
    }
    return gaps;
  }

  /** The values a combo input offers, or null when the input is not a combo (or unknown). */
  static List<String> options(JsonObject classInfo, String input) {
    JsonObject in = classInfo.getJsonObject("input", new JsonObject());
    Object spec = null;
    for (String group : List.of("required", "optional")) {
      JsonObject g = in.getJsonObject(group);
      if (g != null && g.containsKey(input)) {
        spec = g.getValue(input);
      }
    }
    if (!(spec instanceof JsonArray a) || a.isEmpty()) {
      return null;
    }
    JsonArray list = null;
    if (a.getValue(0) instanceof JsonArray l) {
      list = l; // classic combo: [[choices...], {options}]
    } else if ("COMBO".equals(a.getValue(0)) && a.size() > 1 && a.getValue(1) instanceof JsonObject o) {
      list = o.getJsonArray("options"); // newer ComfyUI: ["COMBO", {"options": [...]}]
    }
    if (list == null) {
      return null;
    }
    List<String> out = new ArrayList<>();
    list.forEach(v -> out.add(String.valueOf(v)));
    return out;
  }
}
