package io.qwenedit.comfy.workflow;

import io.qwenedit.config.ConfigException;
import io.qwenedit.comfy.workflow.Workflow.NodeInput;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a workflow's mapping file ({@code <name>.mapping.json}) and checks it against its graph: every target must
 * name a node that exists (by id or by {@code _meta.title}) and an input that node has. Problems are one line naming
 * the file and the node.
 */
public final class WorkflowMapping {
  public static final String IMAGE = "image";
  public static final String PROMPT = "prompt";
  public static final String SEED = "seed";
  public static final String STEPS = "steps";
  public static final String FILENAME_PREFIX = "filename_prefix";
  public static final String OUTPUT = "output";

  private static final List<String> REQUIRED = List.of(IMAGE, PROMPT, FILENAME_PREFIX);
  private static final List<String> OPTIONAL = List.of(SEED, STEPS);
  private static final Set<String> KNOWN = Set.of(IMAGE, PROMPT, SEED, STEPS, FILENAME_PREFIX, OUTPUT, "description");

  private WorkflowMapping() {}

  /** Checks the graph's shape: an object of nodes, each with a class_type and an inputs object. */
  static void checkGraph(JsonObject graph, String file) {
    if (graph.isEmpty()) {
      throw new ConfigException(file + ": the workflow has no nodes");
    }
    for (String id : graph.fieldNames()) {
      Object node = graph.getValue(id);
      if (!(node instanceof JsonObject n)) {
        throw new ConfigException(file + ": node \"" + id + "\" is not an object (is this an API-format workflow? Export it with \"Save (API)\")");
      }
      if (!(n.getValue("class_type") instanceof String ct) || ct.isBlank()) {
        throw new ConfigException(file + ": node \"" + id + "\" has no class_type (is this an API-format workflow? Export it with \"Save (API)\")");
      }
      if (!(n.getValue("inputs") instanceof JsonObject)) {
        throw new ConfigException(file + ": node \"" + id + "\" (" + ct + ") has no inputs object");
      }
    }
  }

  /** Builds the workflow, or throws a {@link ConfigException} naming the file and the node that is wrong. */
  static Workflow resolve(String name, JsonObject graph, String graphFile, JsonObject mapping, String mappingFile) {
    checkGraph(graph, graphFile);
    for (String key : mapping.fieldNames()) {
      if (!key.startsWith("_") && !KNOWN.contains(key)) {
        throw new ConfigException(mappingFile + ": unknown key \"" + key + "\" (known: image, prompt, seed, steps, filename_prefix, output, description)");
      }
    }
    Map<String, NodeInput> targets = new LinkedHashMap<>();
    for (String role : REQUIRED) {
      if (!(mapping.getValue(role) instanceof JsonObject)) {
        throw new ConfigException(mappingFile + ": \"" + role + "\" is missing; it must say which node input receives the job's " + role
            + ", e.g. \"" + role + "\": {\"node\": \"78\", \"input\": \"" + role + "\"}");
      }
      targets.put(role, target(role, mapping.getJsonObject(role), graph, graphFile, mappingFile, true));
    }
    for (String role : OPTIONAL) {
      Object v = mapping.getValue(role);
      if (v != null) {
        if (!(v instanceof JsonObject o)) {
          throw new ConfigException(mappingFile + ": \"" + role + "\" must be an object like {\"node\": \"3\", \"input\": \"" + role + "\"}");
        }
        targets.put(role, target(role, o, graph, graphFile, mappingFile, true));
      }
    }
    String outputNode = targets.get(FILENAME_PREFIX).node();
    Object out = mapping.getValue(OUTPUT);
    if (out != null) {
      if (!(out instanceof JsonObject o)) {
        throw new ConfigException(mappingFile + ": \"output\" must be an object like {\"node\": \"60\"}");
      }
      outputNode = target(OUTPUT, o, graph, graphFile, mappingFile, false).node();
    }
    Object description = mapping.getValue("description");
    return new Workflow(name, description instanceof String d ? d : name, graph, targets, outputNode);
  }

  private static NodeInput target(String role, JsonObject t, JsonObject graph, String graphFile, String mappingFile, boolean needsInput) {
    String node = nodeId(role, t, graph, graphFile, mappingFile);
    if (!needsInput) {
      return new NodeInput(node, null);
    }
    JsonObject n = graph.getJsonObject(node);
    Object input = t.getValue("input");
    if (!(input instanceof String in) || in.isBlank()) {
      throw new ConfigException(mappingFile + ": \"" + role + "\" needs \"input\" (the name of an input of node \"" + node + "\" ("
          + n.getString("class_type") + "), one of " + n.getJsonObject("inputs").fieldNames() + ")");
    }
    JsonObject inputs = n.getJsonObject("inputs");
    if (!inputs.containsKey(in)) {
      throw new ConfigException(mappingFile + ": \"" + role + "\" points at input \"" + in + "\" of node \"" + node + "\" ("
          + n.getString("class_type") + ") in " + graphFile + ", which has no such input (it has " + inputs.fieldNames() + ")");
    }
    if (inputs.getValue(in) instanceof JsonArray) {
      throw new ConfigException(mappingFile + ": \"" + role + "\" points at input \"" + in + "\" of node \"" + node + "\" ("
          + n.getString("class_type") + ") in " + graphFile + ", which is a link to another node, not a value");
    }
    return new NodeInput(node, in);
  }

  private static String nodeId(String role, JsonObject t, JsonObject graph, String graphFile, String mappingFile) {
    Object id = t.getValue("node");
    Object title = t.getValue("title");
    if (id != null) {
      String node = String.valueOf(id);
      if (!graph.containsKey(node)) {
        throw new ConfigException(mappingFile + ": \"" + role + "\" points at node \"" + node + "\", which does not exist in "
            + graphFile + " (its nodes: " + String.join(", ", graph.fieldNames()) + ")");
      }
      return node;
    }
    if (title instanceof String wanted && !wanted.isBlank()) {
      List<String> found = new ArrayList<>();
      for (String node : graph.fieldNames()) {
        JsonObject meta = graph.getJsonObject(node).getJsonObject("_meta");
        if (meta != null && wanted.equals(meta.getValue("title"))) {
          found.add(node);
        }
      }
      if (found.isEmpty()) {
        throw new ConfigException(mappingFile + ": \"" + role + "\" points at the node titled \"" + wanted + "\", which does not exist in " + graphFile);
      }
      if (found.size() > 1) {
        throw new ConfigException(mappingFile + ": \"" + role + "\" points at the node titled \"" + wanted + "\", but " + graphFile
            + " has " + found.size() + " nodes with that title (" + String.join(", ", found) + "); use \"node\" with an id instead");
      }
      return found.get(0);
    }
    throw new ConfigException(mappingFile + ": \"" + role + "\" needs \"node\" (a node id) or \"title\" (a node's _meta.title)");
  }
}
