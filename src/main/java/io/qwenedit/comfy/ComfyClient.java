package io.qwenedit.comfy;

import io.qwenedit.comfy.ComfyHealth.State;
import io.qwenedit.comfy.workflow.Workflow;
import io.qwenedit.metrics.JobMetrics;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One ComfyUI server (one GPU): pooled kept-alive HTTP and one WebSocket. Create it in a verticle's start() (it binds
 * to the context it is created on) and close it in stop(). {@link #dispatch} runs an edit to its end and never hangs;
 * {@link #probe} tells a healthy server from an unreachable one and from one that answers but finishes nothing.
 */
public final class ComfyClient {
  private static final Logger LOG = LoggerFactory.getLogger(ComfyClient.class);

  private final Vertx vertx;
  private final Context context;
  private final URI baseUrl;
  private final ComfyClientOptions options;
  private final ComfyHttp http;
  private final ComfySocket socket;
  private final Map<String, DispatchRun> runs = new HashMap<>();
  private final JobMetrics metrics;
  private final long createdAt = System.currentTimeMillis();
  private long lastProgressAt = createdAt;
  private long lastFinishedSeenAt;
  private String lastHistoryId;
  private String lastRunningId;
  private boolean historyBaseline;
  private boolean closed;

  public ComfyClient(Vertx vertx, URI baseUrl, ComfyClientOptions options) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.baseUrl = baseUrl;
    this.options = options;
    this.http = new ComfyHttp(vertx, baseUrl, options);
    this.socket = new ComfySocket(vertx, baseUrl, options, new SocketEvents());
    this.metrics = JobMetrics.of(vertx);
  }

  public URI baseUrl() {
    return baseUrl;
  }

  /** The WebSocket client id, also sent as every prompt's {@code client_id}. */
  public String clientId() {
    return options.clientId();
  }

  /**
   * Runs one edit to its end: socket first, look the prompt id up (pick up or follow an earlier attempt), upload,
   * submit, follow, download. Resolves with the result or fails with a {@link ComfyException} carrying the job error.
   */
  public Future<DispatchResult> dispatch(DispatchRequest request, DispatchListener listener) {
    return onContext(() -> {
      if (closed) {
        return Future.failedFuture(ComfyException.retryable(ComfyErrors.CLIENT_CLOSED, "the ComfyUI client for " + baseUrl + " is closed"));
      }
      String promptId = request.promptId() == null ? UUID.randomUUID().toString() : request.promptId();
      if (!canonicalUuid(promptId)) {
        return Future.failedFuture(ComfyException.permanent(ComfyErrors.INVALID_WORKFLOW,
            "prompt id \"" + promptId + "\" is not a lowercase UUID (ComfyUI refuses anything else)"));
      }
      if (runs.containsKey(promptId)) {
        return Future.failedFuture(ComfyException.retryable(ComfyErrors.CLIENT_CLOSED, "prompt " + promptId + " is already being dispatched by this client"));
      }
      String name = request.workflow() == null || request.workflow().isBlank() ? options.workflows().defaultName() : request.workflow();
      Workflow workflow = options.workflows().get(name);
      if (workflow == null) {
        return Future.failedFuture(ComfyException.permanent(ComfyErrors.INVALID_WORKFLOW, "Unknown workflow: " + options.workflows().unknownMessage(name)));
      }
      DispatchRun run = new DispatchRun(this, request, listener, workflow, promptId);
      runs.put(promptId, run);
      return run.start();
    });
  }

  static boolean canonicalUuid(String s) {
    try {
      return UUID.fromString(s).toString().equals(s);
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /** A targeted {@code POST /interrupt}: stops that prompt if it is the one running, and nothing else. */
  public Future<Void> interrupt(String promptId) {
    return onContext(() -> http.postJson("/interrupt", new JsonObject().put("prompt_id", promptId)));
  }

  /** Where a prompt is: {@code /queue} first, then {@code /history/{id}} (so one that just finished is not missed). */
  public Future<PromptLookup> lookup(String promptId) {
    return onContext(() -> http.getJson("/queue", null).compose(queue -> {
      JsonArray runningItems = queue.getJsonArray("queue_running", new JsonArray());
      for (int i = 0; i < runningItems.size(); i++) {
        if (promptId.equals(itemId(runningItems.getValue(i)))) {
          return Future.succeededFuture(new PromptLookup(PromptLookup.State.RUNNING, 0, null));
        }
      }
      JsonArray pending = queue.getJsonArray("queue_pending", new JsonArray());
      Double mine = null;
      for (int i = 0; i < pending.size(); i++) {
        if (promptId.equals(itemId(pending.getValue(i)))) {
          mine = itemNumber(pending.getValue(i));
        }
      }
      if (mine != null) {
        int ahead = runningItems.size();
        for (int i = 0; i < pending.size(); i++) {
          Double n = itemNumber(pending.getValue(i));
          if (n != null && n < mine) {
            ahead++;
          }
        }
        return Future.succeededFuture(new PromptLookup(PromptLookup.State.PENDING, ahead, null));
      }
      return http.getJson("/history/" + promptId, null).map(h -> {
        JsonObject entry = h.getJsonObject(promptId);
        return entry == null ? new PromptLookup(PromptLookup.State.UNKNOWN, 0, null) : new PromptLookup(PromptLookup.State.FINISHED, 0, entry);
      });
    }));
  }

  private static String itemId(Object item) {
    return item instanceof JsonArray a && a.size() > 1 ? String.valueOf(a.getValue(1)) : null;
  }

  private static Double itemNumber(Object item) {
    return item instanceof JsonArray a && !a.isEmpty() && a.getValue(0) instanceof Number n ? n.doubleValue() : null;
  }

  /**
   * The server's health: UNREACHABLE when {@code /system_stats} fails; WEDGED when it answers but work has been
   * queued and nothing has finished or started for longer than the wedge threshold; HEALTHY otherwise.
   */
  public Future<ComfyHealth> probe() {
    return onContext(() -> http.getJson("/system_stats", null)
        .compose(stats -> http.getJson("/queue", null)
            .compose(queue -> http.getJson("/history", Map.of("max_items", "1"))
                .map(last -> verdict(stats, queue, last))))
        .recover(e -> {
          ComfyException c = http.failure("GET /system_stats", e);
          return Future.succeededFuture(new ComfyHealth(State.UNREACHABLE, c.error().message(), null, null, null, -1, finishedAge()));
        }));
  }

  private ComfyHealth verdict(JsonObject stats, JsonObject queue, JsonObject last) {
    long now = System.currentTimeMillis();
    JsonObject system = stats.getJsonObject("system", new JsonObject());
    String version = system.getString("comfyui_version");
    Long vramTotal = null;
    Long vramFree = null;
    JsonArray devices = stats.getJsonArray("devices", new JsonArray());
    if (!devices.isEmpty() && devices.getValue(0) instanceof JsonObject d) {
      vramTotal = d.getValue("vram_total") instanceof Number n ? n.longValue() : null;
      vramFree = d.getValue("vram_free") instanceof Number n ? n.longValue() : null;
    }
    JsonArray running = queue.getJsonArray("queue_running", new JsonArray());
    int pending = queue.getJsonArray("queue_pending", new JsonArray()).size();
    String runningId = running.isEmpty() ? null : itemId(running.getValue(0));
    String historyId = last.isEmpty() ? null : last.fieldNames().iterator().next();
    if (historyBaseline && historyId != null && !historyId.equals(lastHistoryId)) {
      lastFinishedSeenAt = now;
      lastProgressAt = now;
    }
    historyBaseline = true;
    lastHistoryId = historyId;
    if (runningId != null && !runningId.equals(lastRunningId)) {
      lastProgressAt = now;
    }
    lastRunningId = runningId;
    int remaining = running.size() + pending;
    if (remaining == 0) {
      lastProgressAt = now;
    }
    long stuck = now - lastProgressAt;
    String where = version == null ? "" : " (ComfyUI " + version + ")";
    if (remaining > 0 && stuck > options.wedgeTimeout().toMillis()) {
      String detail = String.format(Locale.ROOT, "%s answers but is wedged%s: %d prompt%s queued%s and nothing has finished or started for %.0f s",
          baseUrl, where, remaining, remaining == 1 ? "" : "s", runningId == null ? "" : ", " + runningId + " running", stuck / 1000.0);
      return new ComfyHealth(State.WEDGED, detail, version, vramTotal, vramFree, remaining, finishedAge());
    }
    String detail = baseUrl + " is healthy" + where + ", " + remaining + " in its queue";
    return new ComfyHealth(State.HEALTHY, detail, version, vramTotal, vramFree, remaining, finishedAge());
  }

  private Long finishedAge() {
    return lastFinishedSeenAt == 0 ? null : System.currentTimeMillis() - lastFinishedSeenAt;
  }

  /** Closes the socket and the pool; dispatches still running fail with a retryable {@code comfy_client_closed}. */
  public Future<Void> close() {
    return onContext(() -> {
      closed = true;
      for (DispatchRun run : new ArrayList<>(runs.values())) {
        run.fail(ComfyException.retryable(ComfyErrors.CLIENT_CLOSED, "the worker stopped following prompt " + run.promptId()
            + " (it may still finish on ComfyUI; a re-dispatch with the same prompt id picks it up)"));
      }
      return socket.close().eventually(() -> {
        http.close();
        return Future.succeededFuture();
      });
    });
  }

  // ---- for DispatchRun ----

  Vertx vertx() {
    return vertx;
  }

  Context context() {
    return context;
  }

  ComfyClientOptions options() {
    return options;
  }

  ComfyHttp http() {
    return http;
  }

  ComfySocket socket() {
    return socket;
  }

  void noteProgress() {
    lastProgressAt = System.currentTimeMillis();
  }

  void finished(DispatchRun run) {
    runs.remove(run.promptId(), run);
    noteProgress();
  }

  JobMetrics metrics() {
    return metrics;
  }

  private <T> Future<T> onContext(Supplier<Future<T>> action) {
    if (Vertx.currentContext() == context) {
      try {
        return action.get();
      } catch (RuntimeException e) {
        return Future.failedFuture(e);
      }
    }
    Promise<T> p = Promise.promise();
    context.runOnContext(v -> {
      try {
        action.get().onComplete(p);
      } catch (RuntimeException e) {
        p.fail(e);
      }
    });
    return p.future();
  }

  /** Routes socket messages to the run of their prompt; a message without prompt id is a reconnect hint. */
  private final class SocketEvents implements ComfySocket.Events {
    @Override
    public void onText(JsonObject message) {
      String type = message.getString("type");
      JsonObject data = message.getValue("data") instanceof JsonObject d ? d : new JsonObject();
      Object pid = data.getValue("prompt_id");
      if (pid instanceof String id) {
        DispatchRun run = runs.get(id);
        if (run != null) {
          run.onMessage(type == null ? "" : type, data);
        } else if (!"status".equals(type)) {
          noteProgress();
        }
      } else if ("executing".equals(type) && data.getValue("node") != null) {
        new ArrayList<>(runs.values()).forEach(DispatchRun::onHint);
      }
    }

    @Override
    public void onBinary(Buffer frame) {
      if (frame.length() >= 8 && frame.getInt(0) == 4) {
        int len = frame.getInt(4);
        if (len > 0 && 8 + len <= frame.length()) {
          try {
            JsonObject meta = new JsonObject(frame.getString(8, 8 + len, StandardCharsets.UTF_8.name()));
            DispatchRun run = runs.get(meta.getString("prompt_id"));
            if (run != null) {
              run.onHint();
            }
            return;
          } catch (RuntimeException ignored) {
            // fall through: treat as an anonymous preview
          }
        }
      }
      new ArrayList<>(runs.values()).forEach(DispatchRun::onHint);
    }

    @Override
    public void onOpen(boolean reconnect) {
      if (reconnect) {
        LOG.info("ComfyUI WebSocket to {} reconnected; reconciling {} prompt(s) over HTTP", baseUrl, runs.size());
        new ArrayList<>(runs.values()).forEach(DispatchRun::reconcileNow);
      }
    }

    @Override
    public void onClose() {
      // The runs keep polling; the socket reconnects while any of them needs it.
    }

    @Override
    public boolean wanted() {
      return !closed && !runs.isEmpty();
    }
  }
}
