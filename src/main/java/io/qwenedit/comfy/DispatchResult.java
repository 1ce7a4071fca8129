package io.qwenedit.comfy;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

/**
 * The edited image and how it was made.
 *
 * @param image the PNG ComfyUI saved
 * @param fileName its name on the ComfyUI server ({@code qwenedit/<jobId>_00001_.png})
 * @param timings {@code queue_wait_ms}, {@code execution_ms}, {@code total_ms}
 * @param reused true when the prompt was not submitted again: an earlier attempt with this prompt id had already
 *     finished (result picked up) or was still queued or running (followed)
 * @param promptId the prompt's id
 * @param workflow the workflow's name
 * @param seed the sampler seed used (null when picked up from an earlier attempt or the workflow maps no seed)
 */
public record DispatchResult(Buffer image, String fileName, JsonObject timings, boolean reused, String promptId, String workflow, Long seed) {

  public JsonObject toJson() {
    return new JsonObject().put("file_name", fileName).put("timings", timings).put("reused", reused).put("prompt_id", promptId)
        .put("workflow", workflow).put("seed", seed).put("bytes", image.length());
  }
}
