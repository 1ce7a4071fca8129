package io.qwenedit.queue;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A job as stored in its Redis hash ({@code <prefix>{q}:job:<id>}). Built with {@link #fromHash}, which refuses a
 * broken record (bad JSON, missing fields) with {@link PoisonRecordException} naming what is wrong, unless it is
 * already dead-lettered (then it is read as far as it can be).
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

  /**
   * The job a stored record describes. A record that cannot be a job throws {@link PoisonRecordException}, except a
   * dead-lettered one: the claim dead-letters records that are gone or broken (missing_record, poison_record), and
   * those are shown as they are, their unreadable fields left empty, so `jobs dead`, `jobs show` and the API can
   * still tell what happened to them.
   */
  public static Job fromHash(Map<String, String> h) {
    try {
      return fromHash(h, false);
    } catch (PoisonRecordException e) {
      if (!JobState.DEAD.name().equalsIgnoreCase(h.get("state"))) {
        throw e;
      }
      return fromHash(h, true); // still refuses a record without an id
    }
  }

  private static Job fromHash(Map<String, String> h, boolean lenient) {
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
      if (!lenient) {
        throw new PoisonRecordException("the record has no prompt");
      }
      prompt = "";
    }
    String input = h.get("input");
    if (input == null || input.isBlank()) {
      if (!lenient) {
        throw new PoisonRecordException("the record has no input image reference");
      }
      input = "";
    }
    Fields f = new Fields(h, lenient);
    String code = h.get("error_code");
    JobError error = code == null ? null
        : new JobError(code, h.getOrDefault("error_message", ""), "1".equals(h.get("error_retryable")));
    return new Job(id, state, prompt, input,
        f.object("input_info"), f.object("params"), h.get("workflow"), f.object("source"),
        f.num("seq", 0), (int) f.num("attempts", 0), (int) f.num("stalls", 0), f.num("fence", 0),
        h.get("holder"), h.get("gpu"), h.get("prompt_id"),
        f.time("created_at"), f.timeOr("queued_at", "created_at"), f.time("started_at"), f.time("finished_at"),
        f.timeOr("updated_at", "created_at"),
        f.time("lease_until"), f.time("due_at"), f.readyAt(),
        f.object("progress"), error, h.get("result"), f.object("result_info"), attemptLog(h, state, f),
        "1".equals(h.get("cancel_requested")), h.get("idem"));
  }

  /**
   * Every ended attempt, the success included. The stored log holds the attempts that ended otherwise: a success is
   * not stored twice, the record's own fields (attempts, holder, gpu, started_at, finished_at) are that attempt, and
   * it is added here as the last entry (unless the log already ends with it, as records completed by earlier versions do).
   */
  private static JsonArray attemptLog(Map<String, String> h, JobState state, Fields f) {
    JsonArray log = f.array("attempt_log");
    if (state != JobState.SUCCEEDED) {
      return log;
    }
    if (!log.isEmpty() && log.getValue(log.size() - 1) instanceof JsonObject last
        && "succeeded".equals(last.getValue("outcome"))) {
      return log;
    }
    JsonObject success = new JsonObject().put("attempt", f.num("attempts", 0)).put("holder", h.getOrDefault("holder", ""));
    if (h.get("gpu") != null) {
      success.put("gpu", h.get("gpu"));
    }
    return log.add(success.put("started_at", f.time("started_at")).put("ended_at", f.time("finished_at"))
        .put("outcome", "succeeded"));
  }

  /** Reads typed fields of a record; strict: a bad value is a {@link PoisonRecordException}, lenient: left empty. */
  private record Fields(Map<String, String> h, boolean lenient) {
    /** When the job last became claimable: queued (or queued again), or the end of a retry back-off. */
    Long readyAt() {
      Long queued = timeOr("queued_at", "created_at");
      Long backOffEnded = time("ready_at");
      if (queued == null || backOffEnded == null) {
        return queued == null ? backOffEnded : queued; // (a ?: chain here would unbox a null)
      }
      return Math.max(queued, backOffEnded);
    }

    JsonObject object(String field) {
      String raw = h.get(field);
      if (raw == null || raw.isEmpty()) {
        return null;
      }
      try {
        return new JsonObject(raw);
      } catch (DecodeException | ClassCastException e) {
        return bad(field, "a JSON object", raw, null);
      }
    }

    JsonArray array(String field) {
      String raw = h.get(field);
      if (raw == null || raw.isEmpty() || "{}".equals(raw)) {
        return new JsonArray();
      }
      try {
        return new JsonArray(raw);
      } catch (DecodeException | ClassCastException e) {
        return bad(field, "a JSON array", raw, new JsonArray());
      }
    }

    long num(String field, long fallback) {
      String raw = h.get(field);
      if (raw == null || raw.isEmpty()) {
        return fallback;
      }
      try {
        return (long) Double.parseDouble(raw);
      } catch (NumberFormatException e) {
        return bad(field, "a number", raw, fallback);
      }
    }

    Long time(String field) {
      String raw = h.get(field);
      if (raw == null) {
        return null;
      }
      if (raw.isEmpty()) {
        return 0L;
      }
      try {
        return (long) Double.parseDouble(raw);
      } catch (NumberFormatException e) {
        return bad(field, "a number", raw, null); // lenient: unknown, not 1970
      }
    }

    Long timeOr(String field, String fallbackField) {
      Long t = time(field);
      return t != null ? t : time(fallbackField);
    }

    private <T> T bad(String field, String what, String raw, T empty) {
      if (lenient) {
        return empty;
      }
      throw new PoisonRecordException("field " + field + " is not " + what + ": " + abbreviate(raw));
    }
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
