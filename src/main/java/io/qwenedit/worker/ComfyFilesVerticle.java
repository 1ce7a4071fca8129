package io.qwenedit.worker;

import io.qwenedit.comfy.ComfyFiles;
import io.qwenedit.config.Config;
import io.qwenedit.config.Settings;
import io.qwenedit.supervision.SupervisedVerticle;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes the files jobs left in ComfyUI's {@code input/qwenedit} and {@code output/qwenedit} once they are
 * {@code COMFYUI_FILES_MAX_AGE} old, in the base directories {@code COMFYUI_DIR} names (ComfyUI keeps them for good
 * and cannot delete them over HTTP). Runs at start, then every quarter of that age (at most every 10 minutes). Safe
 * on several workers sharing a directory.
 */
public final class ComfyFilesVerticle extends SupervisedVerticle {
  private static final Logger LOG = LoggerFactory.getLogger(ComfyFilesVerticle.class);
  private static final long MAX_INTERVAL_MS = 600_000;

  private final Config config;
  private final List<Path> dirs;
  private long timer = -1;
  private boolean sweeping;
  private long removed;
  private long bytes;
  private JsonArray lastProblems = new JsonArray();

  public ComfyFilesVerticle(Config config) {
    super(config.worker().testSwitches());
    this.config = config;
    this.dirs = config.comfy().dirs();
  }

  @Override
  public String name() {
    return "files";
  }

  private long intervalMs() {
    return Math.max(1_000, Math.min(MAX_INTERVAL_MS, config.comfy().filesMaxAge().toMillis() / 4));
  }

  @Override
  protected long progressDueWithinMs() {
    return 3 * intervalMs() + 60_000; // a sweep of a slow disk is given a minute
  }

  @Override
  protected JsonObject detail() {
    return new JsonObject().put("dirs", new JsonArray(dirs.stream().map(Path::toString).toList())).put("removed", removed)
        .put("removed_bytes", bytes).put("problems", lastProblems);
  }

  @Override
  protected Future<?> startService() {
    sweep();
    timer = vertx.setPeriodic(intervalMs(), t -> sweep());
    return Future.succeededFuture();
  }

  @Override
  protected Future<?> stopService() {
    vertx.cancelTimer(timer);
    return Future.succeededFuture();
  }

  private void sweep() {
    if (sweeping || stalled()) {
      return;
    }
    sweeping = true;
    vertx.executeBlocking(() -> ComfyFiles.sweep(dirs, ComfyFiles.SUBFOLDER, config.comfy().filesMaxAge(), System.currentTimeMillis()), false)
        .onSuccess(s -> {
          removed += s.removed();
          bytes += s.bytes();
          if (s.removed() > 0) {
            LOG.info("removed {} file(s) ({} KB) older than {} from ComfyUI's input/{} and output/{} in {}", s.removed(),
                s.bytes() / 1024, Settings.human(config.comfy().filesMaxAge()), ComfyFiles.SUBFOLDER, ComfyFiles.SUBFOLDER, dirs);
          }
          if (!s.problems().isEmpty() && lastProblems.isEmpty()) {
            LOG.warn("some of ComfyUI's files could not be removed (they are tried again next time): {}", s.problems());
          }
          lastProblems = new JsonArray(s.problems());
        })
        .onFailure(err -> LOG.warn("sweeping ComfyUI's files failed: {}", err.toString()))
        .onComplete(ar -> {
          sweeping = false;
          progressed();
        });
  }
}
