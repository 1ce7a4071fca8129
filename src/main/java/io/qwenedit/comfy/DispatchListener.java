package io.qwenedit.comfy;

/** What a dispatch reports while it runs (all optional; called on the client's event loop, must not block). */
public interface DispatchListener {
  DispatchListener NONE = new DispatchListener() { };

  /**
   * The prompt is in ComfyUI's queue (or was found there, or finished, on a re-dispatch).
   *
   * @param queueRemaining ComfyUI's pending + running count right after submitting (-1 when unknown)
   */
  default void onSubmitted(String promptId, int queueRemaining) { }

  /** The prompt started running (queue wait over). */
  default void onStarted() { }

  /** A sampler step: {@code value} of {@code max} (1..max) at {@code node}. */
  default void onProgress(int value, int max, String node) { }

  /** Any sign of life of this prompt (a message, a history or queue change): the worker's progress heartbeat. */
  default void onActivity() { }
}
