package io.qwenedit.comfy;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;

/**
 * One edit to run.
 *
 * @param jobId the job (names the uploaded file's prefix and the output's filename prefix)
 * @param promptId the prompt id, a canonical lowercase UUID the caller chose and recorded on the job before
 *     dispatching, so that a re-dispatch after a crash finds the earlier attempt instead of running it twice
 * @param image the input image
 * @param imageFileName the name to upload it under (e.g. {@code <jobId>.png})
 * @param prompt the edit instruction
 * @param seed sampler seed (null: a fresh random one)
 * @param steps sampler steps (null: the workflow's own)
 * @param workflow workflow name (null: the configured default)
 * @param cancel completes (with a reason) when the job is cancelled; null when it cannot be
 * @param resume the prompt id may have been dispatched before (a re-dispatch after a crash): ComfyUI is asked about it
 *     first. False for a prompt id the caller just made, which saves two requests
 */
public record DispatchRequest(String jobId, String promptId, Buffer image, String imageFileName, String prompt, Long seed,
    Integer steps, String workflow, Future<String> cancel, boolean resume) {

  public static DispatchRequest of(String jobId, String promptId, Buffer image, String imageFileName, String prompt) {
    return new DispatchRequest(jobId, promptId, image, imageFileName, prompt, null, null, null, null, true);
  }

  public DispatchRequest withSeed(Long s) {
    return new DispatchRequest(jobId, promptId, image, imageFileName, prompt, s, steps, workflow, cancel, resume);
  }

  public DispatchRequest withSteps(Integer n) {
    return new DispatchRequest(jobId, promptId, image, imageFileName, prompt, seed, n, workflow, cancel, resume);
  }

  public DispatchRequest withWorkflow(String w) {
    return new DispatchRequest(jobId, promptId, image, imageFileName, prompt, seed, steps, w, cancel, resume);
  }

  public DispatchRequest withCancel(Future<String> c) {
    return new DispatchRequest(jobId, promptId, image, imageFileName, prompt, seed, steps, workflow, c, resume);
  }

  public DispatchRequest withResume(boolean r) {
    return new DispatchRequest(jobId, promptId, image, imageFileName, prompt, seed, steps, workflow, cancel, r);
  }

  public DispatchRequest withPromptId(String id) {
    return new DispatchRequest(jobId, id, image, imageFileName, prompt, seed, steps, workflow, cancel, resume);
  }
}
