package io.qwenedit.comfy;

import io.qwenedit.comfy.PromptLookup.State;
import io.qwenedit.comfy.workflow.Workflow;
import io.qwenedit.queue.JobError;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One dispatch, from "socket first" to the downloaded image, on the client's event loop. The WebSocket is a fast
 * hint and {@code /history/{id}} the truth: the run reconciles after every reconnect, when a finish is announced,
 * and on a timer while the socket is silent. Three clocks keep it from hanging: queue wait (pending behind other
 * work), stall (running with no message and no history change) and total execution time. On stall, total or cancel
 * it deletes the prompt from the queue and sends a targeted interrupt, then waits (bounded) for ComfyUI to confirm
 * the prompt stopped before it fails.
 */
final class DispatchRun {
  private static final Logger LOG = LoggerFactory.getLogger(DispatchRun.class);

  private enum Phase { PREPARING, PENDING, RUNNING, FINISHING, ABORTING, DONE }

  private final ComfyClient client;
  private final ComfyHttp http;
  private final ComfyClientOptions options;
  private final DispatchRequest request;
  private final DispatchListener listener;
  private final Workflow workflow;
  private final String promptId;
  private final Promise<DispatchResult> promise = Promise.promise();
  private final long createdAt = now();

  private Phase phase = Phase.PREPARING;
  private long uploadedAt;
  private long submittedAt;
  private long startedAt;
  private long lastActivityAt;
  private long lastPollAt;
  private long abortStartedAt;
  private long lastAbortPoke;
  private boolean reconciling;
  private boolean reused;
  private Long seed;
  private JobError abortReason;
  private boolean cancelRequested;
  private String cancelReason;
  private int pollFailures;
  private long tickTimer = -1;
  private JsonObject graph;
  private int queuedBefore = -1;
  private Future<Integer> queueAhead = Future.succeededFuture(-1);
  /** The output file announced by {@code executed}, fetched while ComfyUI finishes the prompt; used if history agrees. */
  private String prefetchedKey;
  private Future<HttpResponse<Buffer>> prefetched;

  DispatchRun(ComfyClient client, DispatchRequest request, DispatchListener listener, Workflow workflow, String promptId) {
    this.client = client;
    this.http = client.http();
    this.options = client.options();
    this.request = request;
    this.listener = guarded(listener == null ? DispatchListener.NONE : listener, request.jobId());
    this.workflow = workflow;
    this.promptId = promptId;
  }

  /** A listener that throws must not break the run: its exception is logged and the run goes on. */
  private static DispatchListener guarded(DispatchListener l, String jobId) {
    return new DispatchListener() {
      @Override
      public void onSubmitted(String promptId, int queueRemaining) {
        run(() -> l.onSubmitted(promptId, queueRemaining));
      }

      @Override
      public void onStarted() {
        run(l::onStarted);
      }

      @Override
      public void onProgress(int value, int max, String node) {
        run(() -> l.onProgress(value, max, node));
      }

      @Override
      public void onActivity() {
        run(l::onActivity);
      }

      private void run(Runnable r) {
        try {
          r.run();
        } catch (RuntimeException e) {
          LOG.warn("job {}: a dispatch listener failed: {}", jobId, e.toString());
        }
      }
    };
  }

  private static long now() {
    return System.currentTimeMillis();
  }

  String promptId() {
    return promptId;
  }

  Future<DispatchResult> start() {
    if (request.cancel() != null) {
      request.cancel().onComplete(ar -> client.context().runOnContext(v ->
          onCancel(ar.succeeded() ? ar.result() : String.valueOf(ar.cause().getMessage()))));
    }
    long tick = Math.max(20, Math.min(1000, min(options.pollInterval().toMillis(), options.stallTimeout().toMillis(),
        options.timeout().toMillis(), options.queueTimeout().toMillis()) / 5));
    tickTimer = client.vertx().setPeriodic(tick, id -> tick());
    client.socket().connect()
        .recover(e -> {
          // Go on without it: the history poll sees the result, the socket keeps reconnecting in the background.
          LOG.warn("job {}: ComfyUI WebSocket not available ({}); following prompt {} by polling", request.jobId(), e.getMessage(), promptId);
          return Future.succeededFuture();
        })
        .compose(v -> request.resume() ? client.lookup(promptId) : Future.succeededFuture(new PromptLookup(PromptLookup.State.UNKNOWN, 0, null)))
        .onSuccess(this::resumeOrSubmit)
        .onFailure(this::fail);
    return promise.future();
  }

  private static long min(long... values) {
    long m = Long.MAX_VALUE;
    for (long v : values) {
      m = Math.min(m, v);
    }
    return m;
  }

  /** Idempotent re-dispatch: pick up or follow an earlier attempt with this prompt id; submit only when there is none. */
  private void resumeOrSubmit(PromptLookup found) {
    if (done()) {
      return;
    }
    switch (found.state()) {
      case FINISHED -> {
        if (found.succeeded()) {
          LOG.info("job {}: prompt {} already finished on ComfyUI; picking up its result instead of running it again", request.jobId(), promptId);
          reused = true;
          submittedAt = now();
          startedAt = submittedAt;
          finishFromHistory(found.history());
          return;
        }
        // An earlier attempt failed or was interrupted: its history entry would be mistaken for this attempt's.
        http.postJson("/history", new JsonObject().put("delete", new JsonArray().add(promptId)))
            .onSuccess(v -> submit())
            .onFailure(this::fail);
      }
      case PENDING, RUNNING -> {
        LOG.info("job {}: prompt {} is already {} on ComfyUI; following it instead of submitting again", request.jobId(), promptId,
            found.state().name().toLowerCase(Locale.ROOT));
        reused = true;
        submittedAt = now();
        phase = Phase.PENDING;
        lastActivityAt = submittedAt;
        listener.onSubmitted(promptId, -1);
        if (found.state() == State.RUNNING) {
          toRunning();
        }
        if (cancelRequested) {
          abort(cancelled());
        }
      }
      default -> submit();
    }
  }

  private void submit() {
    if (cancelRequested) {
      fail(new ComfyException(cancelled()));
      return;
    }
    if (request.image() == null || request.image().length() == 0) {
      fail(ComfyException.permanent(ComfyErrors.INPUT_REJECTED, "there is no input image to send to ComfyUI"));
      return;
    }
    String fileName = safeName(request.imageFileName() == null ? request.jobId() + ".png" : request.imageFileName());
    // what is ahead of us, for the "you are number N" message, asked while the image uploads
    queueAhead = http.getJson("/prompt", null)
        .map(j -> j.getJsonObject("exec_info", new JsonObject()).getInteger("queue_remaining", -1))
        .otherwise(-1);
    MultipartBody form = new MultipartBody()
        .attribute("type", "input")
        .attribute("subfolder", options.uploadSubfolder())
        // named after the job, which only its holder uploads: written again on every attempt, so its modification
        // time is the attempt's (ComfyFiles removes files by age; a kept older copy could be removed while in use)
        .attribute("overwrite", "true")
        .file("image", fileName, request.image(), contentType(fileName));
    http.send(HttpMethod.POST, "/upload/image", null, form, true)
        .compose(r -> {
          if (r.statusCode() == 413) {
            return Future.failedFuture(ComfyException.permanent(ComfyErrors.INPUT_REJECTED,
                "ComfyUI refused the input image (" + request.image().length() + " bytes): it is larger than the server's upload limit (--max-upload-size)"));
          }
          if (r.statusCode() / 100 != 2) {
            return Future.failedFuture(http.status("POST /upload/image", r));
          }
          JsonObject uploaded = http.json(r, "POST /upload/image");
          String name = uploaded.getString("name");
          if (name == null || name.isBlank()) {
            return Future.failedFuture(ComfyException.retryable(ComfyErrors.BAD_RESPONSE,
                "ComfyUI answered POST /upload/image without a file name: " + ComfyErrors.snippet(uploaded.encode(), 120)));
          }
          String sub = uploaded.getString("subfolder", "");
          uploadedAt = now();
          return Future.succeededFuture(sub == null || sub.isEmpty() ? name : sub + "/" + name);
        })
        .compose(this::postPrompt)
        .onFailure(this::fail);
  }

  private Future<Void> postPrompt(String imageName) {
    if (cancelRequested) {
      return Future.failedFuture(new ComfyException(cancelled()));
    }
    seed = request.seed() != null ? request.seed() : ThreadLocalRandom.current().nextLong(1L << 53);
    graph = workflow.fill(imageName, request.prompt() == null ? "" : request.prompt(), seed, request.steps(),
        options.uploadSubfolder() + "/" + safeName(request.jobId()));
    JsonObject body = new JsonObject().put("prompt", graph).put("client_id", options.clientId()).put("prompt_id", promptId);
    // ComfyUI's queue is kept at most one deep, so what was ahead of us is exact in practice
    return queueAhead
        .compose(before -> {
          queuedBefore = before;
          return http.send(HttpMethod.POST, "/prompt", null, body, false);
        })
        .recover(e -> {
          // The request may have reached ComfyUI before the connection failed: ask before giving up.
          return client.lookup(promptId).compose(l -> l.state() == State.UNKNOWN ? Future.failedFuture(e) : Future.succeededFuture((HttpResponse<Buffer>) null));
        })
        .compose(this::accepted);
  }

  private Future<Void> accepted(HttpResponse<Buffer> r) {
    if (r != null) {
      if (r.statusCode() == 400) {
        JsonObject body;
        try {
          body = r.bodyAsJsonObject();
        } catch (RuntimeException e) {
          body = null;
        }
        return Future.failedFuture(new ComfyException(ComfyErrors.rejected(workflow.name(), body, graph)));
      }
      if (r.statusCode() / 100 != 2) {
        return Future.failedFuture(http.status("POST /prompt", r));
      }
      JsonObject ok = http.json(r, "POST /prompt");
      JsonObject nodeErrors = ok.getJsonObject("node_errors");
      if (nodeErrors != null && !nodeErrors.isEmpty()) {
        // Accepted with some outputs dropped: not what we asked for. Take it out of the queue and say why.
        http.postJson("/queue", new JsonObject().put("delete", new JsonArray().add(promptId)));
        return Future.failedFuture(new ComfyException(ComfyErrors.rejected(workflow.name(), ok, graph)));
      }
    }
    markSubmitted();
    if (cancelRequested) {
      abort(cancelled());
    }
    return Future.succeededFuture();
  }

  /** Once per run: the prompt is in ComfyUI's queue (its answer, or its first event if that came first). */
  private void markSubmitted() {
    if (phase != Phase.PREPARING) {
      return;
    }
    phase = Phase.PENDING;
    submittedAt = now();
    lastActivityAt = submittedAt;
    LOG.info("job {}: prompt {} submitted to {} (workflow {}, seed {})", request.jobId(), promptId, http.base(), workflow.name(), seed);
    listener.onSubmitted(promptId, queuedBefore < 0 ? -1 : queuedBefore + 1);
  }

  // ---- messages from the socket ----

  void onMessage(String type, JsonObject data) {
    if (done()) {
      return;
    }
    if (phase == Phase.PREPARING && graph != null) {
      // Events can overtake POST /prompt's answer (another connection): they prove the prompt was accepted.
      markSubmitted();
    }
    switch (type) {
      case "execution_start", "execution_cached", "progress_state" -> {
        toRunning();
        activity();
      }
      case "executed" -> {
        toRunning();
        activity();
        if (workflow.outputNode().equals(data.getString("node"))) {
          prefetch(firstImage(data.getJsonObject("output")));
        }
      }
      case "executing" -> {
        toRunning();
        activity();
        if (data.getValue("node") == null) {
          reconcile();
        }
      }
      case "progress" -> {
        toRunning();
        activity();
        listener.onProgress(data.getInteger("value", 0), data.getInteger("max", 0), data.getString("node"));
      }
      case "execution_success" -> activity();
      case "execution_error" -> {
        if (phase == Phase.ABORTING) {
          reconcile();
        } else {
          fail(new ComfyException(ComfyErrors.execution(data)));
        }
      }
      case "execution_interrupted" -> reconcile();
      default -> { }
    }
  }

  /** The reconnect hint ({@code executing} without prompt id) or a preview frame: this prompt is alive. */
  void onHint() {
    if (!done() && phase == Phase.RUNNING) {
      activity();
    }
  }

  /** After a socket (re)connect: events may have been lost, so ask history now. */
  void reconcileNow() {
    if (!done() && phase != Phase.PREPARING) {
      reconcile();
    }
  }

  private void toRunning() {
    if (phase == Phase.PENDING) {
      phase = Phase.RUNNING;
      startedAt = now();
      lastActivityAt = startedAt;
      LOG.debug("job {}: prompt {} started after {} ms in ComfyUI's queue", request.jobId(), promptId, startedAt - submittedAt);
      listener.onStarted();
    }
  }

  private void activity() {
    lastActivityAt = now();
    client.noteProgress();
    listener.onActivity();
  }

  // ---- clocks ----

  private void tick() {
    if (done()) {
      return;
    }
    long t = now();
    switch (phase) {
      case PENDING -> {
        if (t - submittedAt > options.queueTimeout().toMillis()) {
          abort(JobError.retryable(ComfyErrors.QUEUE_TIMEOUT, "prompt " + promptId + " waited " + seconds(t - submittedAt)
              + " in ComfyUI's queue behind other work without starting (COMFYUI_QUEUE_TIMEOUT); it was taken out of the queue"));
          return;
        }
      }
      case RUNNING -> {
        if (t - startedAt > options.timeout().toMillis()) {
          abort(JobError.retryable(ComfyErrors.TIMEOUT, "prompt " + promptId + " ran longer than " + seconds(options.timeout().toMillis())
              + " (COMFYUI_TIMEOUT)"));
          return;
        }
        if (t - lastActivityAt > options.stallTimeout().toMillis()) {
          abort(JobError.retryable(ComfyErrors.STALLED, "prompt " + promptId + " made no progress for " + seconds(t - lastActivityAt)
              + " (running, no message and no history change; COMFYUI_STALL_TIMEOUT)"));
          return;
        }
      }
      case ABORTING -> {
        if (t - abortStartedAt > options.interruptConfirmTimeout().toMillis()) {
          fail(new ComfyException(new JobError(abortReason.code(), abortReason.message() + "; ComfyUI did not confirm it stopped within "
              + seconds(options.interruptConfirmTimeout().toMillis()) + " (the server may be wedged)", abortReason.retryable())));
          return;
        }
        if (t - lastAbortPoke >= Math.min(500, options.pollInterval().toMillis())) {
          lastAbortPoke = t;
          confirmStopped();
        }
        return;
      }
      default -> {
        return;
      }
    }
    // Silence about this prompt (other clients' status broadcasts do not count): ask the history.
    if (t - Math.max(lastActivityAt, lastPollAt) >= options.pollInterval().toMillis()) {
      reconcile();
    }
  }

  private static String seconds(long ms) {
    return String.format(Locale.ROOT, "%.1f s", ms / 1000.0);
  }

  /** Asks ComfyUI where the prompt is (history first, then the queue) and acts on it. */
  private void reconcile() {
    if (reconciling || done() || phase == Phase.PREPARING || phase == Phase.FINISHING) {
      return;
    }
    if (phase == Phase.ABORTING) {
      confirmStopped();
      return;
    }
    reconciling = true;
    lastPollAt = now();
    // History first: at the end of a run that is the only call needed (the queue, with every queued graph, is only
    // read when the history has nothing yet).
    http.getJson("/history/" + promptId, null)
        .compose(h -> h.getJsonObject(promptId) != null
            ? Future.succeededFuture(new PromptLookup(State.FINISHED, 0, h.getJsonObject(promptId)))
            : client.lookup(promptId))
        .onComplete(ar -> {
          reconciling = false;
          if (done() || phase == Phase.ABORTING) {
            return;
          }
          if (ar.failed()) {
            pollFailures++;
            ComfyException e = http.failure("a status check", ar.cause());
            LOG.warn("job {}: checking prompt {} failed ({} in a row): {}", request.jobId(), promptId, pollFailures, e.error().message());
            if (pollFailures >= 3 && !client.socket().isOpen()) {
              fail(ComfyException.retryable(e.code(), e.error().message() + " while following prompt " + promptId));
            }
            return;
          }
          pollFailures = 0;
          PromptLookup l = ar.result();
          switch (l.state()) {
            case FINISHED -> finishFromHistory(l.history());
            case RUNNING -> {
              if (phase == Phase.PENDING) {
                toRunning();
                activity();
              }
            }
            case PENDING -> { }
            default -> fail(ComfyException.retryable(ComfyErrors.PROMPT_LOST, "ComfyUI at " + http.base() + " no longer knows prompt " + promptId
                + " (not queued, not running, no history): it was restarted, or the prompt was deleted"));
          }
        });
  }

  // ---- stopping ----

  private JobError cancelled() {
    return JobError.permanent(ComfyErrors.CANCELLED, "cancelled" + (cancelReason == null || cancelReason.isBlank() ? "" : ": " + cancelReason));
  }

  private void onCancel(String reason) {
    if (done() || cancelRequested) {
      return;
    }
    cancelRequested = true;
    cancelReason = reason;
    LOG.info("job {}: cancel requested ({}), phase {}", request.jobId(), reason, phase);
    if (phase == Phase.PENDING || phase == Phase.RUNNING || phase == Phase.FINISHING) {
      abort(cancelled());
    }
  }

  /** Takes the prompt out of the queue and interrupts it if it runs (targeted: never someone else's), then confirms. */
  private void abort(JobError reason) {
    if (done() || phase == Phase.ABORTING) {
      return;
    }
    LOG.warn("job {}: stopping prompt {}: {}", request.jobId(), promptId, reason.message());
    phase = Phase.ABORTING;
    abortReason = reason;
    abortStartedAt = now();
    switch (reason.code()) {
      case ComfyErrors.STALLED -> client.metrics().stallInterrupt();
      case ComfyErrors.TIMEOUT -> client.metrics().comfyInterrupt("timeout");
      case ComfyErrors.CANCELLED -> client.metrics().comfyInterrupt("cancel");
      default -> { }
    }
    lastAbortPoke = abortStartedAt;
    poke().onComplete(ar -> confirmStopped());
  }

  private Future<Void> poke() {
    return http.postJson("/queue", new JsonObject().put("delete", new JsonArray().add(promptId)))
        .compose(v -> http.postJson("/interrupt", new JsonObject().put("prompt_id", promptId)))
        .recover(e -> Future.succeededFuture());
  }

  private void confirmStopped() {
    if (done() || reconciling) {
      return;
    }
    reconciling = true;
    client.lookup(promptId).onComplete(ar -> {
      reconciling = false;
      if (done() || ar.failed()) {
        return;
      }
      PromptLookup l = ar.result();
      switch (l.state()) {
        case FINISHED -> {
          if (l.succeeded() && !ComfyErrors.CANCELLED.equals(abortReason.code())) {
            LOG.info("job {}: prompt {} finished after all; keeping its result", request.jobId(), promptId);
            finishFromHistory(l.history());
          } else {
            fail(new ComfyException(stopped()));
          }
        }
        case UNKNOWN -> fail(new ComfyException(stopped()));
        case PENDING, RUNNING -> poke();
        default -> { }
      }
    });
  }

  private JobError stopped() {
    String how = ComfyErrors.CANCELLED.equals(abortReason.code()) ? "" : "; ComfyUI confirmed it stopped";
    return new JobError(abortReason.code(), abortReason.message() + how, abortReason.retryable());
  }

  // ---- the result ----

  private void finishFromHistory(JsonObject entry) {
    if (done()) {
      return;
    }
    JsonObject status = entry.getJsonObject("status", new JsonObject());
    String statusStr = status.getString("status_str");
    if (!"success".equals(statusStr) && statusStr != null) {
      JsonArray messages = status.getJsonArray("messages", new JsonArray());
      for (int i = 0; i < messages.size(); i++) {
        JsonArray m = messages.getJsonArray(i);
        if ("execution_error".equals(m.getString(0))) {
          fail(new ComfyException(ComfyErrors.execution(m.getJsonObject(1))));
          return;
        }
        if ("execution_interrupted".equals(m.getString(0))) {
          fail(new ComfyException(abortReason != null ? stopped() : JobError.retryable(ComfyErrors.INTERRUPTED,
              "prompt " + promptId + " was interrupted on ComfyUI by someone else (an /interrupt this worker did not send)")));
          return;
        }
      }
      fail(ComfyException.retryable(ComfyErrors.EXECUTION_ERROR, "ComfyUI reports prompt " + promptId + " ended with status "
          + statusStr + " and no error details"));
      return;
    }
    JsonObject image = outputImage(entry.getJsonObject("outputs", new JsonObject()));
    if (image == null) {
      fail(ComfyException.retryable(ComfyErrors.OUTPUT_MISSING, "ComfyUI finished prompt " + promptId + " but it produced no image (outputs: "
          + ComfyErrors.snippet(entry.getJsonObject("outputs", new JsonObject()).encode(), 160) + ")"));
      return;
    }
    if (phase != Phase.ABORTING) {
      phase = Phase.FINISHING;
    }
    long finishedAt = now();
    if (startedAt == 0) {
      startedAt = finishedAt;
    }
    String filename = image.getString("filename");
    String subfolder = image.getString("subfolder", "");
    // the early download is only a head start: if it failed (its connection died, say), fetch again
    Future<HttpResponse<Buffer>> download = viewKey(image).equals(prefetchedKey) && prefetched != null
        ? prefetched.recover(e -> view(image)) : view(image);
    download
        .onSuccess(r -> {
          if (r.statusCode() == 404) {
            fail(ComfyException.retryable(ComfyErrors.OUTPUT_MISSING, "ComfyUI finished prompt " + promptId + " but its output "
                + (subfolder.isEmpty() ? "" : subfolder + "/") + filename + " is gone (404 from /view)"));
          } else if (r.statusCode() / 100 != 2) {
            fail(http.status("GET /view", r));
          } else if (r.body() == null || r.body().length() == 0) {
            fail(ComfyException.retryable(ComfyErrors.OUTPUT_MISSING, "ComfyUI sent an empty file for " + filename));
          } else {
            long t = now();
            JsonObject timings = new JsonObject()
                .put("queue_wait_ms", Math.max(0, startedAt - submittedAt))
                .put("execution_ms", Math.max(0, finishedAt - startedAt))
                .put("total_ms", t - createdAt);
            if (uploadedAt > 0) {
              // where the time outside ComfyUI's execution went: input upload, prompt submission, result download
              timings.put("upload_ms", uploadedAt - createdAt).put("submit_ms", Math.max(0, submittedAt - uploadedAt))
                  .put("fetch_ms", t - finishedAt);
            }
            succeed(new DispatchResult(r.body(), (subfolder.isEmpty() ? "" : subfolder + "/") + filename, timings, reused, promptId,
                workflow.name(), reused ? null : seed));
          }
        })
        .onFailure(this::fail);
  }

  /** Starts downloading the output the moment ComfyUI announces it; the history still decides whether it is the result. */
  private void prefetch(JsonObject image) {
    if (image == null || prefetched != null || image.getString("filename") == null) {
      return;
    }
    prefetchedKey = viewKey(image);
    prefetched = view(image);
  }

  /** {@code GET /view} of an output image as history and {@code executed} name it. */
  private Future<HttpResponse<Buffer>> view(JsonObject image) {
    return http.send(HttpMethod.GET, "/view", Map.of("filename", image.getString("filename"), "subfolder", image.getString("subfolder", ""),
        "type", image.getString("type", "output")), null, true);
  }

  private static String viewKey(JsonObject image) {
    return image.getString("type", "output") + "/" + image.getString("subfolder", "") + "/" + image.getString("filename");
  }

  private JsonObject outputImage(JsonObject outputs) {
    JsonObject preferred = outputs.getJsonObject(workflow.outputNode());
    JsonObject found = firstImage(preferred);
    if (found != null) {
      return found;
    }
    for (String node : outputs.fieldNames()) {
      found = firstImage(outputs.getJsonObject(node));
      if (found != null) {
        return found;
      }
    }
    return null;
  }

  private static JsonObject firstImage(JsonObject nodeOutput) {
    if (nodeOutput == null || !(nodeOutput.getValue("images") instanceof JsonArray images)) {
      return null;
    }
    for (int i = 0; i < images.size(); i++) {
      if (images.getValue(i) instanceof JsonObject img && img.getString("filename") != null) {
        return img;
      }
    }
    return null;
  }

  // ---- ending ----

  private boolean done() {
    return phase == Phase.DONE;
  }

  private void succeed(DispatchResult result) {
    if (done()) {
      return;
    }
    end();
    LOG.info("job {}: prompt {} done ({} bytes, {}{})", request.jobId(), promptId, result.image().length(), result.timings().encode(),
        reused ? ", reused" : "");
    promise.complete(result);
  }

  void fail(Throwable t) {
    if (done()) {
      return;
    }
    ComfyException e = t instanceof ComfyException c ? c : http.failure("the dispatch", t);
    end();
    LOG.warn("job {}: prompt {} failed: {} ({})", request.jobId(), promptId, e.error().message(), e.code());
    promise.fail(e);
  }

  private void end() {
    phase = Phase.DONE;
    if (tickTimer >= 0) {
      client.vertx().cancelTimer(tickTimer);
    }
    client.finished(this);
  }

  static String safeName(String s) {
    String clean = s == null ? "input" : s.replaceAll("[^A-Za-z0-9._-]", "_");
    return clean.isEmpty() ? "input" : clean;
  }

  private static String contentType(String fileName) {
    String f = fileName.toLowerCase(Locale.ROOT);
    if (f.endsWith(".jpg") || f.endsWith(".jpeg")) {
      return "image/jpeg";
    }
    if (f.endsWith(".webp")) {
      return "image/webp";
    }
    return "image/png";
  }
}
