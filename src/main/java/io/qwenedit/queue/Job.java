package io.qwenedit.queue;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A job as stored in its Redis hash ({@code <prefix>{q}:job:<id>}). Built with {@link #fromHash}, which refuses a
 * broken record (bad JSON, missing fields) with {@link PoisonRecordException} naming what is wrong.
 *
 * @param fence the lease generation: it grows at every claim; fenced writes carry the value they were given
 */
public record Job(
    String id,
    JobState state,
    String prompt,
    String inputRef,
    JsonObject inputInfo,
    JsonObject params,
    String workflow,
    JsonObject source,
    long seq,
    int attempts,
    int stalls,
    long fence,
    String holder,
    String gpu,
    String promptId,
    Long createdAt,
    Long queuedAt,
    Long startedAt,
    Long finishedAt,
    Long updatedAt,
    Long leaseUntil,
    Long dueAt,
    Long readyAt,
    JsonObject progress,
    JobError error,
    String resultRef,
    JsonObject resultInfo,
    JsonArray attemptLog,
    boolean cancelRequested,
    String idempotencyKey) {

  /** A stored record that cannot be a job: it goes to the dead-letter set with this reason. */
  public static final class PoisonRecordException extends IllegalArgumentException {
    public PoisonRecordException(String message) {
      super(message);
    }
  }

  public static Job fromHash(Map<String, String> h) {
    String id = h.get("id");
    if (id == null || id.isBlank()) {
      throw new PoisonRecordException("the record has no id field");
    }
    JobState state;
    try {
      state = JobState.parse(h.get("state"));
    } catch (IllegalArgumentException e) {
      throw new PoisonRecordException("unknown state \"" + h.get("state") + "\"");
    }
    String prompt = h.get("prompt");
    if (prompt == null) {
      throw new PoisonRecordException("the record has no prompt");
    }
    String input = h.get("input");
    if (input == null || input.isBlank()) {
      throw new PoisonRecordException("the record has no input image reference");
    }
    String code = h.get("error_code");
    JobError error = code == null ? null
        : new JobError(code, h.getOrDefault("error_message", ""), "1".equals(h.get("error_retryable")));
    return new Job(id, state, prompt, input,
        object(h, "input_info"), object(h, "params"), h.get("workflow"), object(h, "source"),
        num(h, "seq", 0), (int) num(h, "attempts", 0), (int) num(h, "stalls", 0), num(h, "fence", 0),
        h.get("holder"), h.get("gpu"), h.get("prompt_id"),
        time(h, "created_at"), timeOr(h, "queued_at", "created_at"), time(h, "started_at"), time(h, "finished_at"),
        timeOr(h, "updated_at", "created_at"),
        time(h, "lease_until"), time(h, "due_at"), readyAt(h),
        object(h, "progress"), error, h.get("result"), object(h, "result_info"), array(h, "attempt_log"),
        "1".equals(h.get("cancel_requested")), h.get("idem"));
  }

  /** When the job last became claimable: queued (or queued again), or the end of a retry back-off. */
  private static Long readyAt(Map<String, String> h) {
    Long queued = timeOr(h, "queued_at", "created_at");
    Long backOffEnded = time(h, "ready_at");
    return queued == null ? backOffEnded : backOffEnded == null ? queued : Math.max(queued, backOffEnded);
  }

  private static JsonObject object(Map<String, String> h, String field) {
    String raw = h.get(field);
    if (raw == null || raw.isEmpty()) {
      return null;
    }
    try {
      return new JsonObject(raw);
    } catch (DecodeException | ClassCastException e) {
      throw new PoisonRecordException("field " + field + " is not a JSON object: " + abbreviate(raw));
    }
  }

  private static JsonArray array(Map<String, String> h, String field) {
    String raw = h.get(field);
    if (raw == null || raw.isEmpty() || "{}".equals(raw)) {
      return new JsonArray();
    }
    try {
      return new JsonArray(raw);
    } catch (DecodeException | ClassCastException e) {
      throw new PoisonRecordException("field " + field + " is not a JSON array: " + abbreviate(raw));
    }
  }

  private static long num(Map<String, String> h, String field, long fallback) {
    String raw = h.get(field);
    if (raw == null || raw.isEmpty()) {
      return fallback;
    }
    try {
      return (long) Double.parseDouble(raw);
    } catch (NumberFormatException e) {
      throw new PoisonRecordException("field " + field + " is not a number: " + abbreviate(raw));
    }
  }

  private static Long time(Map<String, String> h, String field) {
    return h.get(field) == null ? null : num(h, field, 0);
  }

  private static Long timeOr(Map<String, String> h, String field, String fallbackField) {
    Long t = time(h, field);
    return t != null ? t : time(h, fallbackField);
  }

  private static String abbreviate(String s) {
    return s.length() <= 60 ? "\"" + s + "\"" : "\"" + s.substring(0, 57) + "...\"";
  }

  /** The seed/steps/... a caller asked for (never null). */
  public JsonObject paramsOrEmpty() {
    return params == null ? new JsonObject() : params;
  }

  /**
   * The public view: what {@code submit --json}, {@code jobs show --json} and the HTTP API print. Stable field names;
   * fields are added, never renamed.
   */
  public JsonObject toJson() {
    JsonObject j = new JsonObject()
        .put("id", id)
        .put("state", state.wire())
        .put("prompt", prompt)
        .put("workflow", workflow)
        .put("params", params)
        .put("source", source)
        .put("attempts", attempts)
        .put("stalls", stalls)
        .put("holder", holder)
        .put("gpu", gpu)
        .put("prompt_id", promptId)
        .put("created_at", createdAt)
        .put("queued_at", queuedAt)
        .put("started_at", startedAt)
        .put("finished_at", finishedAt)
        .put("updated_at", updatedAt)
        .put("lease_until", leaseUntil)
        .put("retry_at", dueAt)
        .put("progress", progress)
        .put("error", error == null ? null : error.toJson())
        .put("input", inputRef)
        .put("input_info", inputInfo)
        .put("result", resultRef)
        .put("result_info", resultInfo)
        .put("cancel_requested", cancelRequested)
        .put("attempt_log", attemptLog);
    return j;
  }

  /** Reads a RESP2 HGETALL reply (flat key, value list). */
  public static Map<String, String> hash(io.vertx.redis.client.Response r) {
    Map<String, String> out = new LinkedHashMap<>();
    if (r == null) {
      return out;
    }
    for (int i = 0; i + 1 < r.size(); i += 2) {
      io.vertx.redis.client.Response v = r.get(i + 1);
      out.put(r.get(i).toString(), v == null ? null : v.toString());
    }
    return out;
  }
}
