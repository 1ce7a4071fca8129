package io.qwenedit.comfy.workflow;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Map;

/**
 * One ComfyUI workflow (an API-format graph) and where each job value goes in it, checked when it was loaded. Filling
 * it never changes the template: every job gets its own copy.
 */
public final class Workflow {
  /** A node input that receives a job value. */
  public record NodeInput(String node, String input) {
    @Override
    public String toString() {
      return "node " + node + " input " + input;
    }
  }

  private final String name;
  private final String description;
  private final JsonObject template;
  private final Map<String, NodeInput> targets;
  private final String outputNode;

  Workflow(String name, String description, JsonObject template, Map<String, NodeInput> targets, String outputNode) {
    this.name = name;
    this.description = description;
    this.template = template;
    this.targets = Map.copyOf(targets);
    this.outputNode = outputNode;
  }

  public String name() {
    return name;
  }

  public String description() {
    return description;
  }

  /** A copy of the graph as written in the file. */
  public JsonObject template() {
    return template.copy();
  }

  /** The node whose outputs ({@code images}) are the job's result. */
  public String outputNode() {
    return outputNode;
  }

  /** Where a role (image, prompt, seed, steps, filename_prefix) goes; null when this workflow does not map it. */
  public NodeInput target(String role) {
    return targets.get(role);
  }

  /** The sampler steps written in the template, or null when steps are not mapped. */
  public Integer defaultSteps() {
    NodeInput t = targets.get(WorkflowMapping.STEPS);
    if (t == null) {
      return null;
    }
    Object v = template.getJsonObject(t.node()).getJsonObject("inputs").getValue(t.input());
    return v instanceof Number n ? n.intValue() : null;
  }

  /**
   * The graph for one job.
   *
   * @param imageName the name {@code /upload/image} returned (with its subfolder: {@code sub/name.png})
   * @param prompt the edit instruction
   * @param seed the sampler seed (ignored when the workflow maps none)
   * @param steps sampler steps, or null for the template's own
   * @param filenamePrefix where SaveImage writes, e.g. {@code qwenedit/<jobId>}
   */
  public JsonObject fill(String imageName, String prompt, long seed, Integer steps, String filenamePrefix) {
    JsonObject graph = template.copy();
    set(graph, WorkflowMapping.IMAGE, imageName);
    set(graph, WorkflowMapping.PROMPT, prompt);
    set(graph, WorkflowMapping.FILENAME_PREFIX, filenamePrefix);
    if (targets.containsKey(WorkflowMapping.SEED)) {
      set(graph, WorkflowMapping.SEED, seed);
    }
    if (steps != null && targets.containsKey(WorkflowMapping.STEPS)) {
      set(graph, WorkflowMapping.STEPS, steps);
    }
    // Newer ComfyUI requires resolution_steps and older versions ignore extra inputs, so it is always sent.
    for (String id : graph.fieldNames()) {
      JsonObject node = graph.getJsonObject(id);
      if ("ImageScaleToTotalPixels".equals(node.getString("class_type"))) {
        JsonObject inputs = node.getJsonObject("inputs");
        if (!(inputs.getValue("resolution_steps") instanceof Number) && !(inputs.getValue("resolution_steps") instanceof JsonArray)) {
          inputs.put("resolution_steps", 1);
        }
      }
    }
    return graph;
  }

  private void set(JsonObject graph, String role, Object value) {
    NodeInput t = targets.get(role);
    graph.getJsonObject(t.node()).getJsonObject("inputs").put(t.input(), value);
  }

  @Override
  public String toString() {
    return name;
  }
}
