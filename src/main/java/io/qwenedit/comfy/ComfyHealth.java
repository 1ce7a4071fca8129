package io.qwenedit.comfy;

import io.vertx.core.json.JsonObject;

/**
 * A ComfyUI server's health as the probe saw it.
 *
 * @param state HEALTHY; WEDGED (answers HTTP, but work is queued and nothing has finished for longer than the wedge
 *     threshold: its worker thread is likely dead); UNREACHABLE (no answer, an error, or garbage)
 * @param detail one line for a person
 * @param version {@code comfyui_version}, when known
 * @param vramTotal bytes, when known
 * @param vramFree bytes, when known
 * @param queueRemaining pending + running, -1 when unknown
 * @param lastFinishedAgeMs time since this client last saw a prompt finish (any prompt), null if never
 */
public record ComfyHealth(State state, String detail, String version, Long vramTotal, Long vramFree, int queueRemaining,
    Long lastFinishedAgeMs) {
  /** The verdict. */
  public enum State { HEALTHY, WEDGED, UNREACHABLE }

  public boolean healthy() {
    return state == State.HEALTHY;
  }

  public JsonObject toJson() {
    return new JsonObject().put("state", state.name()).put("detail", detail).put("version", version).put("vram_total", vramTotal)
        .put("vram_free", vramFree).put("queue_remaining", queueRemaining).put("last_finished_age_ms", lastFinishedAgeMs);
  }
}
