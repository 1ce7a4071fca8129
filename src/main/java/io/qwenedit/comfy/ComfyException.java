package io.qwenedit.comfy;

import io.qwenedit.queue.JobError;

/** A dispatch that did not produce a result, with the job error to record: code, readable message, retryable. */
public final class ComfyException extends RuntimeException {
  private final JobError error;

  public ComfyException(JobError error) {
    super(error.code() + ": " + error.message(), null, false, false);
    this.error = error;
  }

  public static ComfyException retryable(String code, String message) {
    return new ComfyException(JobError.retryable(code, message));
  }

  public static ComfyException permanent(String code, String message) {
    return new ComfyException(JobError.permanent(code, message));
  }

  public JobError error() {
    return error;
  }

  public String code() {
    return error.code();
  }

  public boolean retryable() {
    return error.retryable();
  }
}
