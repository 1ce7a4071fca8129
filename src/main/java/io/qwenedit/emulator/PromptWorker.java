package io.qwenedit.emulator;

import io.qwenedit.emulator.EmulatorImages.NotAnImageException;
import io.qwenedit.emulator.EmulatorStorage.FileRef;
import io.qwenedit.emulator.Faults.PromptFault;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The emulator's {@code prompt_worker}: one prompt at a time from a priority queue ordered by {@code number}, nodes
 * run in order with their time, sampler steps with {@code progress}, ComfyUI's classic cache (a node whose signature
 * did not change since the last prompt is not run again), history written before {@code executing null}, and the
 * faults of the script. Everything runs on the emulator verticle's event loop; image work goes to a worker thread.
 */
final class PromptWorker {
  private static final Logger LOG = LoggerFactory.getLogger(PromptWorker.class);
  private static final Set<String> HEAVY = Set.of("UNETLoader", "CLIPLoader", "VAELoader", "LoraLoaderModelOnly", "KSampler");
  private static final Set<String> SENSITIVE = Set.of("auth_token_comfy_org", "api_key_comfy_org");
  static final String OOM_TYPE = "torch.OutOfMemoryError";
  static final String OOM_MESSAGE = "Allocation on device \nThis error means you ran out of memory on your GPU.\n\n"
      + "TIPS: If the workflow worked before you might have accidentally set the batch_size to a large number.";

  /** A queued prompt: ComfyUI's queue item {@code [number, prompt_id, prompt, extra_data, outputs_to_execute]}. */
  static final class Task {
    final Number number;
    final String promptId;
    final JsonObject graph;
    final JsonObject extraData;
    final List<String> outputs;
    final String clientId;

    Task(Number number, String promptId, JsonObject graph, JsonObject extraData, List<String> outputs) {
      this.number = number;
      this.promptId = promptId;
      this.graph = graph;
      this.extraData = extraData;
      this.outputs = outputs;
      this.clientId = extraData.getString("client_id");
    }

    JsonArray item(boolean forHistory) {
      JsonObject extra = extraData.copy();
      if (forHistory) {
        SENSITIVE.forEach(extra::remove);
      }
      return new JsonArray().add(number).add(promptId).add(graph).add(extra).add(new JsonArray(new ArrayList<>(outputs)));
    }
  }

  private record CacheEntry(String signature, JsonObject ui) {}

  private final Vertx vertx;
  private final EmulatorOptions options;
  private final EmulatorStorage storage;
  private final EmulatorSockets sockets;
  private final EmulatorStats stats;
  private final Supplier<Faults> faults;
  private final Random random;

  private final PriorityQueue<Task> pending = new PriorityQueue<>(
      Comparator.comparingDouble((Task t) -> t.number.doubleValue()).thenComparing(t -> t.promptId));
  private final LinkedHashMap<String, JsonObject> history = new LinkedHashMap<>();
  private final Map<String, CacheEntry> cache = new HashMap<>();
  private Execution running;
  private boolean alive = true;
  private boolean modelsLoaded;
  private boolean freeModels;
  private boolean freeMemory;
  private long counter;
  private int ordinal;

  PromptWorker(Vertx vertx, EmulatorOptions options, EmulatorStorage storage, EmulatorSockets sockets, EmulatorStats stats,
      Supplier<Faults> faults, Random random) {
    this.vertx = vertx;
    this.options = options;
    this.storage = storage;
    this.sockets = sockets;
    this.stats = stats;
    this.faults = faults;
    this.random = random;
  }

  /** The server's {@code number} counter: advanced by every POST /prompt without a number, valid or not. */
  long nextNumber() {
    return counter++;
  }

  int queueRemaining() {
    return pending.size() + (running == null ? 0 : 1);
  }

  boolean alive() {
    return alive;
  }

  String runningPromptId() {
    return running == null ? null : running.task.promptId;
  }

  String runningClientId() {
    return running == null ? null : running.task.clientId;
  }

  String executingNode() {
    return running == null ? null : running.executingNode;
  }

  void enqueue(Task t) {
    pending.add(t);
    stats.depth(queueRemaining());
    sockets.broadcastStatus(queueRemaining());
    maybeStart();
  }

  /** POST /queue delete: pending only, first match per id. */
  void deletePending(List<String> ids) {
    boolean changed = false;
    for (String id : ids) {
      for (Task t : pending) {
        if (t.promptId.equals(id)) {
          pending.remove(t);
          stats.promptsDeleted++;
          stats.client(t.clientId, "deleted");
          changed = true;
          break;
        }
      }
    }
    if (changed) {
      sockets.broadcastStatus(queueRemaining());
    }
  }

  void clearPending() {
    stats.promptsDeleted += pending.size();
    pending.clear();
    sockets.broadcastStatus(queueRemaining());
  }

  /**
   * POST /interrupt. Null: global (whatever runs); otherwise only if that prompt is running. An interrupt while idle is
   * a no-op (the flag is reset when the next prompt starts).
   */
  void interrupt(String promptId) {
    stats.interruptRequests++;
    if (promptId != null) {
      stats.interruptsTargeted++;
    }
    if (running == null || (promptId != null && !promptId.equals(running.task.promptId))) {
      if (promptId != null) {
        LOG.debug("emulator: prompt {} is not currently running, skipping interrupt", promptId);
      }
      return;
    }
    running.interruptFlag = true;
    if (running.onInterrupt != null) {
      Runnable r = running.onInterrupt;
      running.onInterrupt = null;
      r.run();
    }
  }

  /** POST /free: deferred until the running prompt (if any) is done. */
  void free(boolean unloadModels, boolean freeMem) {
    freeModels |= unloadModels;
    freeMemory |= freeMem;
    if (running == null) {
      applyFree();
    }
  }

  private void applyFree() {
    if (freeModels || freeMemory) {
      modelsLoaded = false;
    }
    if (freeMemory) {
      cache.clear();
    }
    freeModels = false;
    freeMemory = false;
  }

  /** Emulates a ComfyUI restart: queue, history, cache and loaded models are gone; the worker thread lives again. */
  void restart() {
    if (running != null) {
      running.dead = true;
    }
    running = null;
    pending.clear();
    history.clear();
    cache.clear();
    modelsLoaded = false;
    alive = true;
    counter = 0;
  }

  JsonObject queueJson() {
    JsonArray runningItems = new JsonArray();
    if (running != null) {
      runningItems.add(running.task.item(false));
    }
    JsonArray pendingItems = new JsonArray();
    // The raw heap array, not sorted, as ComfyUI sends it.
    for (Object o : pending.toArray()) {
      pendingItems.add(((Task) o).item(false));
    }
    return new JsonObject().put("queue_running", runningItems).put("queue_pending", pendingItems);
  }

  JsonObject history(String promptId) {
    JsonObject entry = history.get(promptId);
    return entry == null ? new JsonObject() : new JsonObject().put(promptId, entry.copy());
  }

  JsonObject history(Integer maxItems, int offset) {
    List<String> ids = new ArrayList<>(history.keySet());
    int start = offset;
    int end = ids.size();
    if (maxItems != null) {
      if (offset <= 0) {
        start = Math.max(0, ids.size() - maxItems);
      } else {
        end = Math.min(ids.size(), offset + maxItems);
      }
    }
    JsonObject out = new JsonObject();
    for (int i = Math.max(0, start); i < end; i++) {
      out.put(ids.get(i), history.get(ids.get(i)).copy());
    }
    return out;
  }

  void deleteHistory(List<String> ids) {
    ids.forEach(history::remove);
  }

  void clearHistory() {
    history.clear();
  }

  private void maybeStart() {
    if (running != null || !alive || pending.isEmpty()) {
      return;
    }
    Task t = pending.poll();
    ordinal++;
    PromptFault fault = faults.get().forPrompt(ordinal, random);
    if (!fault.none()) {
      stats.promptFaults++;
      LOG.info("emulator: prompt {} gets fault {}", t.promptId, fault.source().encode());
    }
    running = new Execution(t, fault);
    stats.promptsStarted++;
    stats.client(t.clientId, "started");
    sockets.broadcastStatus(queueRemaining());
    running.begin();
  }

  private void after(long ms, Runnable r) {
    vertx.setTimer(Math.max(1, ms), id -> r.run());
  }

  /** One prompt's run. */
  private final class Execution {
    final Task task;
    final PromptFault fault;
    final String sid;
    final GraphFacts facts;
    final List<String> cached = new ArrayList<>();
    final List<String> completed = new ArrayList<>();
    final Map<String, JsonObject> ui = new LinkedHashMap<>();
    final JsonArray messages = new JsonArray();
    final JsonObject progressNodes = new JsonObject();
    final int steps;
    boolean interruptFlag;
    Runnable onInterrupt;
    String executingNode;
    boolean faultFired;
    boolean dead;
    int index;
    Future<Buffer> image;
    Buffer previewJpeg;

    Execution(Task task, PromptFault fault) {
      this.task = task;
      this.fault = fault;
      this.sid = task.clientId;
      this.facts = GraphFacts.of(task.graph, task.outputs, value -> {
        Buffer b = storage.resolveAnnotated(value);
        return b == null ? "" : storage.hash(b);
      });
      this.steps = options.steps() != null ? options.steps() : facts.samplerSteps;
    }

    private boolean gone() {
      return dead || running != this;
    }

    /** Events that ComfyUI sends only to the prompt's client: nothing at all when the prompt has no client_id. */
    private void toClient(String type, JsonObject data) {
      if (sid != null) {
        sockets.send(sid, type, data);
      }
    }

    private JsonObject stamp(JsonObject data) {
      return data.put("timestamp", System.currentTimeMillis());
    }

    private void record(String type, JsonObject data) {
      messages.add(new JsonArray().add(type).add(data.copy()));
    }

    void begin() {
      interruptFlag = false;
      JsonObject start = stamp(new JsonObject().put("prompt_id", task.promptId));
      record("execution_start", start);
      toClient("execution_start", start);
      for (String id : facts.order) {
        CacheEntry c = cache.get(id);
        if (c != null && c.signature().equals(facts.signatures.get(id))) {
          cached.add(id);
          if (c.ui() != null) {
            ui.put(id, c.ui());
          }
        }
      }
      JsonObject cachedMsg = stamp(new JsonObject().put("nodes", new JsonArray(new ArrayList<>(cached))).put("prompt_id", task.promptId));
      record("execution_cached", cachedMsg);
      toClient("execution_cached", cachedMsg);
      if (cached.size() == facts.order.size()) {
        stats.promptsCached++;
      }
      for (String id : cached) {
        if (ui.get(id) != null) {
          toClient("executed", new JsonObject().put("node", id).put("display_node", id).put("output", ui.get(id)).put("prompt_id", task.promptId));
        }
      }
      next();
    }

    void next() {
      if (gone()) {
        return;
      }
      if (interruptFlag) {
        interrupted(executingNode == null && index < facts.order.size() ? facts.order.get(index) : executingNode);
        return;
      }
      while (index < facts.order.size() && cached.contains(facts.order.get(index))) {
        index++;
      }
      if (index >= facts.order.size()) {
        if (!fault.none() && !faultFired && !"drop_socket".equals(fault.kind())) {
          // The targeted node never ran (cached): the fault still happens, at the end.
          if (applyFault(lastNode())) {
            return;
          }
        }
        success();
        return;
      }
      runNode(facts.order.get(index++));
    }

    private String lastNode() {
      return facts.order.get(facts.order.size() - 1);
    }

    private String classOf(String id) {
      return task.graph.getJsonObject(id).getString("class_type");
    }

    private boolean targets(String id) {
      if (fault.none() || faultFired) {
        return false;
      }
      if (fault.node() == null) {
        return id.equals(facts.samplerNode != null ? facts.samplerNode : lastNode());
      }
      return fault.node().equals(id) || fault.node().equals(classOf(id));
    }

    private JsonObject progressState(String id, String state, int value, int max) {
      progressNodes.put(id, new JsonObject().put("value", value).put("max", max).put("state", state).put("node_id", id)
          .put("prompt_id", task.promptId).put("display_node_id", id).putNull("parent_node_id").put("real_node_id", id));
      return new JsonObject().put("prompt_id", task.promptId).put("nodes", progressNodes.copy());
    }

    private void sendProgressState(JsonObject data) {
      sockets.send(sid, "progress_state", data);
    }

    void runNode(String id) {
      executingNode = id;
      String ct = classOf(id);
      sendProgressState(progressState(id, "running", 0, 1));
      toClient("executing", new JsonObject().put("node", id).put("display_node", id).put("prompt_id", task.promptId));
      boolean sampler = "KSampler".equals(ct);
      if (!sampler && targets(id)) {
        if (applyFault(id)) {
          return;
        }
      }
      long delay = options.nodeTime().toMillis();
      if (!modelsLoaded && HEAVY.contains(ct)) {
        delay += options.modelLoadTime().toMillis();
        modelsLoaded = true;
      }
      if (sampler) {
        long wait = delay;
        if (options.previews() && previewJpeg == null) {
          // Previews need the picture first (a real sampler decodes its latent for them).
          ensureImage().compose(png -> vertx.executeBlocking(() -> EmulatorImages.preview(png, options.previewSize()), false))
              .onComplete(ar -> {
                previewJpeg = ar.succeeded() ? ar.result() : null;
                if (!gone()) {
                  after(wait, () -> samplerStep(id, 1));
                }
              });
          return;
        }
        after(delay, () -> samplerStep(id, 1));
        return;
      }
      after(delay, () -> finishNode(id, ct));
    }

    void samplerStep(String id, int step) {
      after(options.stepTime().toMillis(), () -> {
        if (gone()) {
          return;
        }
        if (interruptFlag) {
          interrupted(id);
          return;
        }
        int faultStep = fault.atStep() != null ? fault.atStep() : Math.max(1, steps / 2);
        if (targets(id) && step == Math.min(faultStep, steps)) {
          if (applyFault(id)) {
            return;
          }
        }
        sendProgressState(progressState(id, "running", step, steps));
        JsonObject meta = new JsonObject().put("node_id", id).put("prompt_id", task.promptId).put("display_node_id", id)
            .putNull("parent_node_id").put("real_node_id", id).put("image_type", "image/jpeg");
        if (previewJpeg != null) {
          sockets.preview(sid, previewJpeg, meta);
        }
        sockets.send(sid, "progress", new JsonObject().put("value", step).put("max", steps).put("prompt_id", task.promptId).put("node", id));
        if (step >= steps) {
          nodeDone(id, null);
        } else {
          samplerStep(id, step + 1);
        }
      });
    }

    /** Applies the fault at this node; true when the run does not go on from here. */
    private boolean applyFault(String id) {
      faultFired = true;
      switch (fault.kind()) {
        case "hang" -> {
          LOG.info("emulator: prompt {} hangs at node {}", task.promptId, id);
          if (fault.interruptible()) {
            onInterrupt = () -> interrupted(id);
          }
          return true;
        }
        case "wedge" -> {
          LOG.warn("emulator: the worker thread dies at node {} of prompt {} (wedged: nothing will run again)", id, task.promptId);
          alive = false;
          onInterrupt = null;
          return true;
        }
        case "error" -> {
          executionError(id, fault.exceptionType() == null ? OOM_TYPE : fault.exceptionType(),
              fault.exceptionMessage() == null ? OOM_MESSAGE : fault.exceptionMessage());
          return true;
        }
        case "drop_socket" -> {
          LOG.info("emulator: dropping the socket of client {} during prompt {}", sid, task.promptId);
          sockets.drop(sid, fault.refuseReconnectMs());
          return false;
        }
        default -> {
          return false;
        }
      }
    }

    private Future<Buffer> ensureImage() {
      if (image == null) {
        Buffer input = facts.imageValue == null ? null : storage.resolveAnnotated(facts.imageValue);
        if (input == null) {
          image = Future.failedFuture(new NotAnImageException("no such file"));
        } else {
          image = vertx.executeBlocking(() -> EmulatorImages.derive(input, facts.prompt, facts.megapixels), false);
        }
      }
      return image;
    }

    void finishNode(String id, String ct) {
      if (gone()) {
        return;
      }
      switch (ct) {
        case "LoadImage" -> ensureImage().onComplete(ar -> {
          if (gone()) {
            return;
          }
          if (ar.failed()) {
            executionError(id, "PIL.UnidentifiedImageError", "cannot identify image file '/emulator/input/" + facts.imageValue + "'");
          } else {
            nodeDone(id, null);
          }
        });
        case "SaveImage", "PreviewImage" -> ensureImage().onComplete(ar -> {
          if (gone()) {
            return;
          }
          if (ar.failed()) {
            executionError(id, "RuntimeError", "the input image could not be read");
            return;
          }
          FileRef ref;
          if ("SaveImage".equals(ct)) {
            ref = storage.save(String.valueOf(task.graph.getJsonObject(id).getJsonObject("inputs").getValue("filename_prefix")), ar.result());
          } else {
            String name = "ComfyUI_temp_" + Long.toString(random.nextLong() & 0xFFFFFFFL, 36) + "_00001_.png";
            storage.upload("temp", "", name, ar.result(), true);
            ref = new FileRef(name, "", "temp");
          }
          JsonObject out = new JsonObject().put("images", new JsonArray().add(new JsonObject()
              .put("filename", ref.filename()).put("subfolder", ref.subfolder()).put("type", ref.type())));
          nodeDone(id, out);
        });
        default -> nodeDone(id, null);
      }
    }

    void nodeDone(String id, JsonObject output) {
      if (gone()) {
        return;
      }
      completed.add(id);
      if (output != null) {
        ui.put(id, output);
        toClient("executed", new JsonObject().put("node", id).put("display_node", id).put("output", output).put("prompt_id", task.promptId));
      }
      sendProgressState(progressState(id, "finished", 1, 1));
      executingNode = null;
      vertx.runOnContext(v -> next());
    }

    void success() {
      JsonObject done = stamp(new JsonObject().put("prompt_id", task.promptId));
      record("execution_success", done);
      toClient("execution_success", done);
      writeHistory("success", true);
      remember(true);
      stats.promptsSucceeded++;
      stats.client(sid, "succeeded");
      finish();
    }

    void executionError(String id, String type, String message) {
      JsonObject inputs = task.graph.getJsonObject(id).getJsonObject("inputs");
      JsonObject current = new JsonObject();
      for (String k : inputs.fieldNames()) {
        Object v = inputs.getValue(k);
        current.put(k, new JsonArray().add(v instanceof JsonArray ? "<linked output>" : String.valueOf(v)));
      }
      JsonArray executed = new JsonArray();
      cached.forEach(executed::add);
      completed.forEach(executed::add);
      JsonObject err = stamp(new JsonObject().put("prompt_id", task.promptId).put("node_id", id).put("node_type", classOf(id))
          .put("executed", executed).put("exception_message", message).put("exception_type", type)
          .put("traceback", new JsonArray()
              .add("  File \"/emulator/execution.py\", line 496, in execute\n    output_data, output_ui, has_subgraph, has_pending_tasks = await get_output_data(...)\n")
              .add("  File \"/emulator/nodes.py\", line 1525, in sample\n    return common_ksampler(...)\n"))
          .put("current_inputs", current).put("current_outputs", executed.copy()));
      LOG.info("emulator: prompt {} fails at node {} ({}): {}", task.promptId, id, classOf(id), type);
      record("execution_error", err);
      toClient("execution_error", err);
      if (type.contains("OutOfMemory")) {
        modelsLoaded = false;
      }
      writeHistory("error", false);
      remember(false);
      stats.promptsFailed++;
      stats.client(sid, "failed");
      finish();
    }

    void interrupted(String id) {
      if (gone()) {
        return;
      }
      String node = id == null ? lastNode() : id;
      JsonArray executed = new JsonArray();
      cached.forEach(executed::add);
      completed.forEach(executed::add);
      JsonObject msg = stamp(new JsonObject().put("prompt_id", task.promptId).put("node_id", node).put("node_type", classOf(node))
          .put("executed", executed));
      record("execution_interrupted", msg);
      // Sent with broadcast=True: to the prompt's client, or to everyone when it has none.
      sockets.send(sid, "execution_interrupted", msg);
      writeHistory("error", false);
      remember(false);
      stats.promptsInterrupted++;
      stats.interruptsEffective++;
      stats.client(sid, "interrupted");
      finish();
    }

    private void writeHistory(String status, boolean completedOk) {
      JsonObject outputs = new JsonObject();
      JsonObject meta = new JsonObject();
      ui.forEach((id, out) -> {
        outputs.put(id, out.copy());
        meta.put(id, new JsonObject().put("node_id", id).put("display_node", id).putNull("parent_node").put("real_node_id", id));
      });
      JsonObject entry = new JsonObject()
          .put("prompt", task.item(true))
          .put("outputs", outputs)
          .put("status", new JsonObject().put("status_str", status).put("completed", completedOk).put("messages", messages.copy()))
          .put("meta", meta);
      history.remove(task.promptId);
      history.put(task.promptId, entry);
      while (history.size() > options.historyMax()) {
        history.remove(history.keySet().iterator().next());
      }
    }

    /** The classic cache: this prompt's nodes that have outputs now, keyed by node id. */
    private void remember(boolean all) {
      Map<String, CacheEntry> next = new HashMap<>();
      for (String id : facts.order) {
        if (all || cached.contains(id) || completed.contains(id)) {
          next.put(id, new CacheEntry(facts.signatures.get(id), ui.get(id)));
        }
      }
      cache.clear();
      cache.putAll(next);
    }

    private void finish() {
      running = null;
      executingNode = null;
      onInterrupt = null;
      applyFree();
      sockets.broadcastStatus(queueRemaining());
      toClient("executing", new JsonObject().putNull("node").put("prompt_id", task.promptId));
      vertx.runOnContext(v -> maybeStart());
    }
  }
}
