package io.qwenedit.queue;

import io.vertx.core.json.JsonObject;

/**
 * Why a job attempt did not succeed: a stable machine code, a message a person can read, and whether trying again
 * may help. Codes are listed in docs/architecture.md.
 */
public record JobError(String code, String message, boolean retryable) {

  public static JobError retryable(String code, String message) {
    return new JobError(code, message, true);
  }

  public static JobError permanent(String code, String message) {
    return new JobError(code, message, false);
  }

  public JsonObject toJson() {
    return new JsonObject().put("code", code).put("message", message).put("retryable", retryable);
  }
}
