package io.qwenedit.emulator;

import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.TreeMap;

/**
 * What happened on the emulator since it started (or since the last reset): connections, requests per endpoint,
 * prompts by outcome, interrupts, the deepest the queue got, and the same per client id. Read over HTTP at
 * {@code GET /_emulator/stats}; the worker's tests use it to prove what the client did (and did not) send.
 */
final class EmulatorStats {
  long connectionsOpened;
  int connectionsOpen;
  long websocketsOpened;
  int websocketsOpen;
  long websocketsRefused;
  long websocketsDropped;
  final Map<String, Long> requests = new TreeMap<>();
  long promptsAccepted;
  long promptsRejected;
  long promptsStarted;
  long promptsSucceeded;
  long promptsFailed;
  long promptsInterrupted;
  long promptsDeleted;
  long promptsCached;
  long interruptRequests;
  long interruptsTargeted;
  long interruptsEffective;
  long uploads;
  long uploadsRenamed;
  long uploadsReused;
  long httpFaults;
  long promptFaults;
  int maxQueueDepth;
  final Map<String, Map<String, Long>> clients = new TreeMap<>();

  void request(String endpoint) {
    requests.merge(endpoint, 1L, Long::sum);
  }

  void client(String clientId, String what) {
    clients.computeIfAbsent(clientId == null ? "(none)" : clientId, k -> new TreeMap<>()).merge(what, 1L, Long::sum);
  }

  void depth(int queueRemaining) {
    maxQueueDepth = Math.max(maxQueueDepth, queueRemaining);
  }

  void reset() {
    connectionsOpened = 0;
    websocketsOpened = 0;
    websocketsRefused = 0;
    websocketsDropped = 0;
    requests.clear();
    promptsAccepted = 0;
    promptsRejected = 0;
    promptsStarted = 0;
    promptsSucceeded = 0;
    promptsFailed = 0;
    promptsInterrupted = 0;
    promptsDeleted = 0;
    promptsCached = 0;
    interruptRequests = 0;
    interruptsTargeted = 0;
    interruptsEffective = 0;
    uploads = 0;
    uploadsRenamed = 0;
    uploadsReused = 0;
    httpFaults = 0;
    promptFaults = 0;
    maxQueueDepth = 0;
    clients.clear();
  }

  JsonObject toJson() {
    JsonObject req = new JsonObject();
    requests.forEach(req::put);
    JsonObject cl = new JsonObject();
    clients.forEach((id, counts) -> {
      JsonObject c = new JsonObject();
      counts.forEach(c::put);
      cl.put(id, c);
    });
    return new JsonObject()
        .put("connections_opened", connectionsOpened)
        .put("connections_open", connectionsOpen)
        .put("websockets_opened", websocketsOpened)
        .put("websockets_open", websocketsOpen)
        .put("websockets_refused", websocketsRefused)
        .put("websockets_dropped", websocketsDropped)
        .put("requests", req)
        .put("prompts_accepted", promptsAccepted)
        .put("prompts_rejected", promptsRejected)
        .put("prompts_started", promptsStarted)
        .put("prompts_finished", promptsSucceeded + promptsFailed + promptsInterrupted)
        .put("prompts_succeeded", promptsSucceeded)
        .put("prompts_failed", promptsFailed)
        .put("prompts_interrupted", promptsInterrupted)
        .put("prompts_deleted", promptsDeleted)
        .put("prompts_fully_cached", promptsCached)
        .put("interrupt_requests", interruptRequests)
        .put("interrupts_targeted", interruptsTargeted)
        .put("interrupts_effective", interruptsEffective)
        .put("uploads", uploads)
        .put("uploads_renamed", uploadsRenamed)
        .put("uploads_reused", uploadsReused)
        .put("http_faults", httpFaults)
        .put("prompt_faults", promptFaults)
        .put("max_queue_depth", maxQueueDepth)
        .put("clients", cl);
  }
}
