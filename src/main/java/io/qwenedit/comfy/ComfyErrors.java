package io.qwenedit.comfy;

import io.qwenedit.queue.JobError;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Turns what ComfyUI says when something goes wrong (a 400 with {@code node_errors}, an {@code execution_error}, an
 * HTTP failure) into a {@link JobError} a person can read: which node, which input, what to do. Codes are listed in
 * docs/architecture.md.
 */
public final class ComfyErrors {
  public static final String UNREACHABLE = "comfy_unreachable";
  public static final String HTTP_5XX = "comfy_http_5xx";
  public static final String HTTP_ERROR = "comfy_http_error";
  public static final String BAD_RESPONSE = "comfy_bad_response";
  public static final String STALLED = "comfy_stalled";
  public static final String TIMEOUT = "comfy_timeout";
  public static final String QUEUE_TIMEOUT = "comfy_queue_timeout";
  public static final String EXECUTION_ERROR = "comfy_execution_error";
  public static final String INTERRUPTED = "comfy_interrupted";
  public static final String PROMPT_LOST = "comfy_prompt_lost";
  public static final String OUTPUT_MISSING = "comfy_output_missing";
  public static final String CLIENT_CLOSED = "comfy_client_closed";
  public static final String INVALID_WORKFLOW = "invalid_workflow";
  public static final String INPUT_REJECTED = "input_rejected";
  public static final String CANCELLED = "cancelled";

  private static final int MAX_LIST = 6;

  private ComfyErrors() {}

  /**
   * A refused prompt (HTTP 400, or 200 with {@code node_errors}): names every failing node, its class and title, and
   * the reason; a missing model file is called that.
   */
  public static JobError rejected(String workflow, JsonObject body, JsonObject graph) {
    JsonObject error = body == null ? null : body.getJsonObject("error");
    JsonObject nodeErrors = body == null ? null : body.getJsonObject("node_errors");
    List<String> parts = new ArrayList<>();
    if (nodeErrors != null) {
      for (String node : nodeErrors.fieldNames()) {
        JsonObject ne = nodeErrors.getJsonObject(node);
        String classType = ne.getString("class_type", "?");
        String title = title(graph, node);
        JsonArray errors = ne.getJsonArray("errors", new JsonArray());
        for (int i = 0; i < errors.size(); i++) {
          parts.add("node " + node + " (" + classType + (title == null || title.equals(classType) ? "" : " \"" + title + "\"") + "): "
              + describe(errors.getJsonObject(i)));
        }
      }
    }
    if (parts.isEmpty() && error != null) {
      String details = error.getString("details", "");
      parts.add(error.getString("message", "rejected") + (details.isBlank() ? "" : ": " + details) + " (" + error.getString("type", "?") + ")");
    }
    if (parts.isEmpty()) {
      parts.add("no reason given");
    }
    return JobError.permanent(INVALID_WORKFLOW, "ComfyUI refused workflow \"" + workflow + "\": " + String.join("; ", parts));
  }

  private static String title(JsonObject graph, String node) {
    if (graph == null || graph.getJsonObject(node) == null) {
      return null;
    }
    JsonObject meta = graph.getJsonObject(node).getJsonObject("_meta");
    return meta == null ? null : meta.getString("title");
  }

  static String describe(JsonObject e) {
    String type = e.getString("type", "");
    String details = e.getString("details", "");
    JsonObject extra = e.getJsonObject("extra_info", new JsonObject());
    String input = extra.getString("input_name");
    switch (type) {
      case "value_not_in_list" -> {
        Object received = extra.getValue("received_value");
        String has = choices(extra);
        if (input != null && (input.endsWith("_name") || input.equals("ckpt_name"))) {
          return "model file '" + received + "' (" + input + ") is not installed on the ComfyUI server" + (has == null ? "" : "; it has " + has)
              + ". Install the file or change the workflow";
        }
        return input + " '" + received + "' is not one of the allowed values" + (has == null ? "" : " " + has);
      }
      case "required_input_missing" -> {
        return "required input '" + details + "' is missing (the server's ComfyUI may be newer or older than the workflow)";
      }
      case "custom_validation_failed" -> {
        return details.contains("Invalid image file") ? "the uploaded image was not found: " + details : e.getString("message") + ": " + details;
      }
      default -> {
        return e.getString("message", type) + (details.isBlank() ? "" : ": " + details);
      }
    }
  }

  private static String choices(JsonObject extra) {
    Object cfg = extra.getValue("input_config");
    if (cfg instanceof JsonArray a && !a.isEmpty() && a.getValue(0) instanceof JsonArray list) {
      List<String> names = new ArrayList<>();
      for (int i = 0; i < Math.min(MAX_LIST, list.size()); i++) {
        names.add(String.valueOf(list.getValue(i)));
      }
      return names + (list.size() > MAX_LIST ? " and " + (list.size() - MAX_LIST) + " more" : "");
    }
    return null;
  }

  /**
   * An {@code execution_error}: node id and type, exception type and the first line of its message. Retryable unless
   * it clearly cannot get better by trying again (the input image cannot be read, the graph does not fit the model).
   */
  public static JobError execution(JsonObject data) {
    String node = String.valueOf(data.getValue("node_id"));
    String nodeType = data.getString("node_type", "?");
    String type = data.getString("exception_type", "error");
    String message = firstLine(data.getString("exception_message", ""));
    String text = "ComfyUI failed at node " + node + " (" + nodeType + "): " + type + (message.isEmpty() ? "" : ": " + message);
    boolean permanent = "LoadImage".equals(nodeType) || type.contains("UnidentifiedImageError") || "ExecutionBlocked".equals(type)
        || message.toLowerCase(Locale.ROOT).contains("mat1 and mat2 shapes");
    if (type.contains("OutOfMemory")) {
      text += " (the GPU ran out of memory; ComfyUI unloaded its models and the job will be tried again)";
    }
    return permanent ? JobError.permanent(EXECUTION_ERROR, text) : JobError.retryable(EXECUTION_ERROR, text);
  }

  static String firstLine(String s) {
    String t = s.strip();
    int nl = t.indexOf('\n');
    return nl < 0 ? t : t.substring(0, nl).strip();
  }

  /** Up to {@code max} characters of a response body, on one line. */
  static String snippet(String body, int max) {
    String one = body == null ? "" : body.replaceAll("\\s+", " ").strip();
    return one.length() <= max ? one : one.substring(0, max) + "...";
  }
}
