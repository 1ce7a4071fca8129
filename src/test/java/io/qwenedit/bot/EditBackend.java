package io.qwenedit.bot;

import io.qwenedit.config.Config;
import io.vertx.core.buffer.Buffer;
import java.util.List;
import java.util.function.Supplier;

/**
 * What the bot's scenario tests need from "the worker side": something that takes jobs from the real queue and ends
 * them. {@link QueueTestWorker} plays it through {@code JobWaiter}/{@code JobQueue}; the real worker with the ComfyUI
 * emulator can take its place by implementing the same scripting.
 */
interface EditBackend extends AutoCloseable {
  /**
   * The worker side every scenario test uses, started: the one place to swap in the real worker and the ComfyUI
   * emulator. {@code steps} progress reports {@code stepMs} apart, then a result.
   */
  static EditBackend start(Config config, int steps, long stepMs) {
    EditBackend b = new QueueTestWorker(config, steps, stepMs);
    b.start();
    return b;
  }

  void start();

  /** The picture every job ends with from now on. */
  EditBackend result(Supplier<Buffer> image);

  /** Jobs taken from now on wait (running, with their lease renewed) until {@link #release()}. */
  void holdJobs(boolean hold);

  /** Lets every held job finish, and stops holding new ones. */
  void release();

  /** Stops taking jobs (they stay queued) until called with false. */
  void pause(boolean paused);

  /** The next job ends with this error instead of a result. */
  void failNext(String code, String message, boolean retryable);

  /** Ids of the jobs taken so far, in order. */
  List<String> taken();

  /** Ids of the jobs that got a result. */
  List<String> completed();

  @Override
  void close();
}
