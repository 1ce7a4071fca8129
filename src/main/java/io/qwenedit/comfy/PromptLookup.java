package io.qwenedit.comfy;

import io.vertx.core.json.JsonObject;

/**
 * What ComfyUI knows about a prompt id, from {@code /queue} then {@code /history/{id}}.
 *
 * @param state PENDING, RUNNING, FINISHED (history has it) or UNKNOWN (never accepted, deleted, or lost in a restart)
 * @param ahead for PENDING: prompts that run before it (the running one included)
 * @param history for FINISHED: the history entry ({@code prompt}, {@code outputs}, {@code status}, ...)
 */
public record PromptLookup(State state, int ahead, JsonObject history) {
  /** Where a prompt is. */
  public enum State { PENDING, RUNNING, FINISHED, UNKNOWN }

  /** FINISHED with {@code status_str} "success". */
  public boolean succeeded() {
    return state == State.FINISHED && history != null && "success".equals(statusString());
  }

  public String statusString() {
    JsonObject status = history == null ? null : history.getJsonObject("status");
    return status == null ? null : status.getString("status_str");
  }
}
