package io.qwenedit.emulator;

import io.qwenedit.emulator.Faults.HttpFault;
import io.qwenedit.emulator.PromptWorker.Task;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.UUID;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ComfyUI-compatible HTTP and WebSocket server: every route also answers under {@code /api}, request bodies are
 * limited (413), and its own admin API under {@code /_emulator/} sets faults and reports statistics.
 */
final class ComfyEmulatorVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(ComfyEmulatorVerticle.class);
  static final String VERSION = "0.38.1";
  private static final String TROUBLE = "500 Internal Server Error\n\nServer got itself in trouble";
  private static final Pattern CANONICAL_UUID = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");

  private final EmulatorOptions options;
  private final EmulatorStats stats = new EmulatorStats();
  private final Random random;
  private Faults faults;
  private EmulatorStorage storage;
  private EmulatorSockets sockets;
  private PromptWorker worker;
  private HttpServer server;
  private int port;

  ComfyEmulatorVerticle(EmulatorOptions options) {
    this.options = options;
    this.random = options.randomSeed() == null ? new Random() : new Random(options.randomSeed());
    this.faults = Faults.parse(options.faults() == null ? new JsonObject() : options.faults());
  }

  int port() {
    return port;
  }

  @Override
  public Future<?> start() {
    storage = new EmulatorStorage(options.maxFiles());
    sockets = new EmulatorSockets(stats, features(), System::currentTimeMillis);
    Supplier<Faults> current = () -> faults;
    worker = new PromptWorker(vertx, options, storage, sockets, stats, current, random);
    server = vertx.createHttpServer(new HttpServerOptions()
        .setHost(options.host()).setPort(options.port())
        .setMaxWebSocketFrameSize(64 * 1024 * 1024).setMaxWebSocketMessageSize(64 * 1024 * 1024));
    server.connectionHandler(conn -> {
      stats.connectionsOpened++;
      stats.connectionsOpen++;
      conn.closeHandler(v -> stats.connectionsOpen--);
    });
    return server.requestHandler(router()).listen().map(s -> {
      port = s.actualPort();
      LOG.info("ComfyUI emulator listening on http://{}:{}", options.host(), port);
      return s;
    });
  }

  @Override
  public Future<?> stop() {
    if (sockets != null) {
      sockets.closeAll();
    }
    return server == null ? Future.succeededFuture() : server.close();
  }

  /** Runs on the emulator's event loop (the facade's methods are called from any thread). */
  <T> Future<T> onContext(Supplier<T> action) {
    Promise<T> p = Promise.promise();
    context.runOnContext(v -> {
      try {
        p.complete(action.get());
      } catch (RuntimeException e) {
        p.fail(e);
      }
    });
    return p.future();
  }

  JsonObject statsJson() {
    return stats.toJson()
        .put("queue_remaining", worker.queueRemaining())
        .put("worker_alive", worker.alive())
        .put("running_prompt_id", worker.runningPromptId())
        .put("files_stored", storage.size());
  }

  void setFaults(JsonObject script) {
    faults = Faults.parse(script);
  }

  void resetStats() {
    stats.reset();
  }

  void restart() {
    worker.restart();
    sockets.closeAll();
  }

  private JsonObject features() {
    return new JsonObject().put("supports_preview_metadata", true).put("max_upload_size", options.maxUploadBytes());
  }

  private Router router() {
    Router router = Router.router(vertx);
    router.route().order(-10).handler(this::countAndFault);
    io.vertx.core.Handler<RoutingContext> body = this::readRawBody;
    for (String p : List.of("", "/api")) {
      router.get(p + "/ws").handler(this::webSocket);
      router.get(p + "/prompt").handler(ctx -> json(ctx, new JsonObject().put("exec_info", new JsonObject().put("queue_remaining", worker.queueRemaining()))));
      router.post(p + "/prompt").handler(body).handler(this::postPrompt);
      router.get(p + "/queue").handler(ctx -> json(ctx, worker.queueJson()));
      router.post(p + "/queue").handler(body).handler(this::postQueue);
      router.post(p + "/interrupt").handler(body).handler(this::postInterrupt);
      router.post(p + "/free").handler(body).handler(this::postFree);
      router.get(p + "/history").handler(this::getHistory);
      router.get(p + "/history/:id").handler(ctx -> json(ctx, worker.history(ctx.pathParam("id"))));
      router.post(p + "/history").handler(body).handler(this::postHistory);
      router.get(p + "/view").handler(this::view);
      router.post(p + "/upload/image").handler(this::readMultipart).handler(this::upload);
      router.get(p + "/system_stats").handler(ctx -> json(ctx, systemStats()));
      router.get(p + "/features").handler(ctx -> json(ctx, features()));
      router.get(p + "/object_info").handler(this::objectInfo);
      router.get(p + "/object_info/:cls").handler(this::objectInfo);
      router.get(p + "/models").handler(ctx -> json(ctx, new JsonArray(new ArrayList<>(NodeCatalog.MODEL_FOLDERS))));
      router.get(p + "/models/:folder").handler(this::models);
      router.get(p + "/embeddings").handler(ctx -> json(ctx, new JsonArray()));
      router.get(p + "/extensions").handler(ctx -> json(ctx, new JsonArray()));
    }
    router.get("/_emulator/stats").handler(ctx -> json(ctx, statsJson()));
    router.delete("/_emulator/stats").handler(ctx -> {
      resetStats();
      json(ctx, statsJson());
    });
    router.get("/_emulator/faults").handler(ctx -> json(ctx, faults.toJson()));
    router.post("/_emulator/faults").handler(this::readRawBody).handler(this::postFaults);
    router.delete("/_emulator/faults").handler(ctx -> {
      faults = Faults.empty();
      json(ctx, faults.toJson());
    });
    router.post("/_emulator/restart").handler(ctx -> {
      restart();
      json(ctx, new JsonObject().put("restarted", true));
    });
    router.errorHandler(404, ctx -> text(ctx, 404, "404: Not Found"));
    router.errorHandler(405, ctx -> text(ctx, 405, "405: Method Not Allowed"));
    router.errorHandler(413, ctx -> text(ctx, 413, "Maximum request body size " + options.maxUploadBytes() + " exceeded, actual body size "
        + ctx.request().getHeader("content-length")));
    router.errorHandler(500, ctx -> {
      if (ctx.failure() != null) {
        LOG.warn("emulator: {} {} failed: {}", ctx.request().method(), ctx.request().path(), ctx.failure().toString());
      }
      text(ctx, 500, TROUBLE);
    });
    return router;
  }

  /** "POST /history/{id}"-style names for statistics and fault matching, without the /api prefix. */
  static String endpoint(String path) {
    String p = path.startsWith("/api/") ? path.substring(4) : path;
    if (p.startsWith("/history/")) {
      return "/history/{id}";
    }
    if (p.startsWith("/object_info/")) {
      return "/object_info/{class}";
    }
    if (p.startsWith("/models/")) {
      return "/models/{folder}";
    }
    return p;
  }

  private void countAndFault(RoutingContext ctx) {
    String path = ctx.request().path();
    if (path.startsWith("/_emulator/")) {
      ctx.next();
      return;
    }
    String method = ctx.request().method().name();
    String plain = path.startsWith("/api/") ? path.substring(4) : path;
    stats.request(method + " " + endpoint(path));
    HttpFault f = faults.forRequest(method, plain, random);
    if (f == null) {
      ctx.next();
      return;
    }
    stats.httpFaults++;
    LOG.info("emulator: fault {} on {} {}", f.kind, method, path);
    switch (f.kind) {
      case "http_500" -> text(ctx, 500, TROUBLE);
      case "garbage" -> ctx.response().setStatusCode(200).putHeader("content-type", "application/json; charset=utf-8")
          .end("<html><body><h1>502 Bad Gateway</h1>upstream sent an invalid response</body></html>");
      case "close" -> ctx.request().connection().close();
      case "slow" -> vertx.setTimer(Math.max(1, f.delayMs), t -> ctx.next());
      default -> ctx.next();
    }
  }

  private static void json(RoutingContext ctx, Object body) {
    String text = body instanceof JsonObject o ? o.encode() : ((JsonArray) body).encode();
    ctx.response().putHeader("content-type", "application/json; charset=utf-8").end(text);
  }

  private static void json(RoutingContext ctx, int status, JsonObject body) {
    ctx.response().setStatusCode(status).putHeader("content-type", "application/json; charset=utf-8").end(body.encode());
  }

  private static void text(RoutingContext ctx, int status, String text) {
    HttpServerResponse r = ctx.response();
    if (!r.ended() && !r.headWritten()) {
      r.setStatusCode(status).putHeader("content-type", "text/plain; charset=utf-8").end(text);
    }
  }

  private static void empty(RoutingContext ctx) {
    ctx.response().setStatusCode(200).end();
  }

  /** A body announced larger than the limit gets 413 before it is read (a bad length, 400); true when refused. */
  private static boolean refusedByLength(RoutingContext ctx, long limit) {
    String length = ctx.request().getHeader("content-length");
    try {
      if (length != null && Long.parseLong(length.strip()) > limit) {
        ctx.fail(413);
        return true;
      }
      return false;
    } catch (NumberFormatException e) {
      ctx.fail(400);
      return true;
    }
  }

  /**
   * Reads a JSON endpoint's body whatever its content type (aiohttp's request.json() ignores it; vertx-web's
   * a form decoder would try to read it as a form), with the same size limit as every other body.
   */
  private void readRawBody(RoutingContext ctx) {
    long limit = options.maxUploadBytes();
    if (refusedByLength(ctx, limit)) {
      return;
    }
    Buffer received = Buffer.buffer();
    if (ctx.request().isEnded()) {
      ctx.put(RAW_BODY, received);
      ctx.next();
      return;
    }
    boolean[] tooBig = {false};
    ctx.request().handler(chunk -> {
      if (tooBig[0]) {
        return;
      }
      if (received.length() + chunk.length() > limit) {
        tooBig[0] = true;
        ctx.fail(413);
        return;
      }
      received.appendBuffer(chunk);
    });
    ctx.request().endHandler(v -> {
      if (!tooBig[0]) {
        ctx.put(RAW_BODY, received);
        ctx.next();
      }
    });
    ctx.request().resume();
  }

  private static final String RAW_BODY = "qwenedit.rawBody";

  /**
   * The body read by {@link #readRawBody} as a JSON object, or null when it is empty, not JSON or another JSON value
   * (the caller answers 500, as aiohttp does for an uncaught JSON error).
   */
  private static JsonObject parseBody(RoutingContext ctx) {
    Buffer b = ctx.get(RAW_BODY);
    if (b == null || !b.toString().strip().startsWith("{")) {
      return null;
    }
    try {
      return new JsonObject(b);
    } catch (DecodeException e) {
      return null;
    }
  }

  private void postPrompt(RoutingContext ctx) {
    JsonObject body = parseBody(ctx);
    if (body == null) {
      text(ctx, 500, TROUBLE);
      return;
    }
    Number number;
    if (body.getValue("number") instanceof Number n) {
      number = n.doubleValue();
    } else {
      long next = worker.nextNumber();
      number = Boolean.TRUE.equals(body.getValue("front")) ? -next : next;
    }
    if (!body.containsKey("prompt")) {
      stats.promptsRejected++;
      json(ctx, 400, new JsonObject().put("error", PromptValidator.error("no_prompt", "No prompt provided", "No prompt provided", new JsonObject()))
          .put("node_errors", new JsonObject()));
      return;
    }
    Object pid = body.getValue("prompt_id");
    String promptId;
    if (pid == null) {
      promptId = UUID.randomUUID().toString();
    } else if (pid instanceof String s && CANONICAL_UUID.matcher(s).matches()) {
      promptId = s;
    } else {
      stats.promptsRejected++;
      json(ctx, 400, new JsonObject().put("error", PromptValidator.error("invalid_prompt_id", "Invalid prompt_id format",
          "prompt_id must be a valid UUID string, got: " + pid, new JsonObject())).put("node_errors", new JsonObject()));
      return;
    }
    if (!(body.getValue("prompt") instanceof JsonObject graph)) {
      text(ctx, 500, TROUBLE);
      return;
    }
    PromptValidator.Result result = PromptValidator.validate(graph, this::folderFiles, value -> storage.resolveAnnotated(value) != null);
    if (!result.accepted()) {
      stats.promptsRejected++;
      LOG.info("emulator: invalid prompt: {}", result.error().encode());
      json(ctx, 400, new JsonObject().put("error", result.error()).put("node_errors", result.nodeErrors()));
      return;
    }
    JsonObject extra = body.getValue("extra_data") instanceof JsonObject e ? e.copy() : new JsonObject();
    if (body.containsKey("client_id")) {
      extra.put("client_id", body.getValue("client_id") == null ? null : String.valueOf(body.getValue("client_id")));
    }
    extra.put("create_time", System.currentTimeMillis());
    Task task = new Task(number, promptId, graph, extra, result.goodOutputs());
    stats.promptsAccepted++;
    stats.client(task.clientId, "accepted");
    worker.enqueue(task);
    json(ctx, new JsonObject().put("prompt_id", promptId).put("number", number).put("node_errors", result.nodeErrors()));
  }

  private List<String> folderFiles(String folder) {
    if ("input".equals(folder)) {
      return storage.inputFiles();
    }
    List<String> files = options.models().get(folder);
    return files == null ? List.of() : files;
  }

  private void postQueue(RoutingContext ctx) {
    clearOrDelete(ctx, worker::clearPending, worker::deletePending);
  }

  /** POST /queue and POST /history: {"clear": true} and/or {"delete": [ids]}; always an empty 200. */
  private void clearOrDelete(RoutingContext ctx, Runnable clear, java.util.function.Consumer<List<String>> delete) {
    JsonObject body = parseBody(ctx);
    if (body == null) {
      text(ctx, 500, TROUBLE);
      return;
    }
    if (Boolean.TRUE.equals(body.getValue("clear"))) {
      clear.run();
    }
    if (body.getValue("delete") instanceof JsonArray ids) {
      List<String> list = new ArrayList<>();
      ids.forEach(o -> list.add(String.valueOf(o)));
      delete.accept(list);
    }
    empty(ctx);
  }

  private void postInterrupt(RoutingContext ctx) {
    JsonObject body = parseBody(ctx);
    String promptId = body != null && body.getValue("prompt_id") != null ? String.valueOf(body.getValue("prompt_id")) : null;
    worker.interrupt(promptId);
    empty(ctx);
  }

  private void postFree(RoutingContext ctx) {
    JsonObject body = parseBody(ctx);
    if (body == null) {
      text(ctx, 500, TROUBLE);
      return;
    }
    worker.free(Boolean.TRUE.equals(body.getValue("unload_models")), Boolean.TRUE.equals(body.getValue("free_memory")));
    empty(ctx);
  }

  private void getHistory(RoutingContext ctx) {
    Integer max = null;
    int offset = -1;
    try {
      String m = ctx.request().getParam("max_items");
      if (m != null) {
        max = Integer.parseInt(m);
      }
      String o = ctx.request().getParam("offset");
      if (o != null) {
        offset = Integer.parseInt(o);
      }
    } catch (NumberFormatException e) {
      text(ctx, 500, TROUBLE);
      return;
    }
    json(ctx, worker.history(max, offset));
  }

  private void postHistory(RoutingContext ctx) {
    clearOrDelete(ctx, worker::clearHistory, worker::deleteHistory);
  }

  private void view(RoutingContext ctx) {
    String requested = ctx.request().getParam("filename");
    if (requested == null) {
      text(ctx, 400, "400: Bad Request");
      return;
    }
    EmulatorStorage.Annotated annotated = EmulatorStorage.Annotated.of(requested, ctx.request().getParam("type", "output"));
    String type = annotated.type();
    String filename = annotated.value();
    if (filename.startsWith("/") || filename.contains("..")) {
      text(ctx, 400, "400: Bad Request");
      return;
    }
    filename = filename.substring(filename.lastIndexOf('/') + 1);
    if (!EmulatorStorage.TYPES.contains(type)) {
      text(ctx, 400, "400: Bad Request");
      return;
    }
    String subfolder = ctx.request().getParam("subfolder", "");
    if (!EmulatorStorage.safeSubfolder(subfolder)) {
      text(ctx, 403, "403: Forbidden");
      return;
    }
    Buffer data = storage.read(type, subfolder, filename);
    if (data == null) {
      text(ctx, 404, "404: Not Found");
      return;
    }
    String lower = filename.toLowerCase(Locale.ROOT);
    String contentType = lower.endsWith(".png") ? "image/png" : lower.endsWith(".jpg") || lower.endsWith(".jpeg") ? "image/jpeg"
        : lower.endsWith(".webp") ? "image/webp" : "application/octet-stream";
    ctx.response().putHeader("content-type", contentType).putHeader("content-disposition", "filename=\"" + filename + "\"").end(data);
  }

  private static final String UPLOADS = "emulator.uploads";

  /** One file part of a multipart body, kept in memory. */
  private record Part(String field, String fileName, Buffer bytes) {}

  /**
   * Reads a multipart body into memory (parts and form attributes), with the same size limit as every other body
   * (aiohttp's client_max_size): over it, 413 at once.
   */
  private void readMultipart(RoutingContext ctx) {
    long limit = options.maxUploadBytes();
    if (refusedByLength(ctx, limit)) {
      return;
    }
    List<Part> parts = new ArrayList<>();
    long[] received = {0};
    boolean[] tooBig = {false};
    ctx.request().setExpectMultipart(true);
    ctx.request().uploadHandler(upload -> {
      Buffer bytes = Buffer.buffer();
      upload.handler(chunk -> {
        received[0] += chunk.length();
        if (received[0] > limit) {
          if (!tooBig[0]) {
            tooBig[0] = true;
            ctx.fail(413);
          }
          return;
        }
        bytes.appendBuffer(chunk);
      });
      upload.endHandler(v -> parts.add(new Part(upload.name(), upload.filename(), bytes)));
    });
    ctx.request().endHandler(v -> {
      if (!tooBig[0]) {
        ctx.put(UPLOADS, parts);
        ctx.next();
      }
    });
    ctx.request().resume();
  }

  private void upload(RoutingContext ctx) {
    List<Part> parts = ctx.get(UPLOADS);
    Part image = parts.stream().filter(part -> "image".equals(part.field())).reduce((a, b) -> b).orElse(null);
    if (image == null || image.fileName() == null || image.fileName().isBlank()) {
      text(ctx, 400, "400: Bad Request");
      return;
    }
    String name = image.fileName();
    String subfolder = ctx.request().getFormAttribute("subfolder") == null ? "" : ctx.request().getFormAttribute("subfolder");
    String type = ctx.request().getFormAttribute("type");
    type = "temp".equals(type) || "output".equals(type) ? type : "input";
    String overwrite = ctx.request().getFormAttribute("overwrite");
    boolean replace = "true".equals(overwrite) || "1".equals(overwrite);
    if (name.contains("/") || name.contains("\\") || name.contains("..") || !EmulatorStorage.safeSubfolder(subfolder)) {
      text(ctx, 400, "400: Bad Request");
      return;
    }
    EmulatorStorage.Stored stored = storage.upload(type, subfolder, name, image.bytes(), replace);
    stats.uploads++;
    if (stored.reused()) {
      stats.uploadsReused++;
    } else if (!stored.name().equals(name)) {
      stats.uploadsRenamed++;
    }
    json(ctx, new JsonObject().put("name", stored.name()).put("subfolder", subfolder).put("type", type));
  }

  private JsonObject systemStats() {
    Runtime rt = Runtime.getRuntime();
    long vramTotal = 150_754_820_096L;
    long vramFree = worker.alive() ? 120_000_000_000L : 1_000_000_000L;
    return new JsonObject()
        .put("system", new JsonObject()
            .put("os", "linux")
            .put("ram_total", rt.maxMemory())
            .put("ram_free", rt.freeMemory())
            .put("comfyui_version", VERSION)
            .put("required_frontend_version", "1.28.7")
            .put("installed_templates_version", "0.1.95")
            .put("required_templates_version", "0.1.95")
            .put("python_version", "emulated (qwenedit " + System.getProperty("java.version") + ")")
            .put("pytorch_version", "none (qwenedit ComfyUI emulator)")
            .put("embedded_python", false)
            .put("argv", new JsonArray().add("qwenedit").add("emulator").add("--port").add(String.valueOf(port))))
        .put("devices", new JsonArray().add(new JsonObject()
            .put("name", "cuda:0 Emulated GPU : cudaMallocAsync")
            .put("type", "cuda")
            .put("index", 0)
            .put("vram_total", vramTotal)
            .put("vram_free", vramFree)
            .put("torch_vram_total", vramTotal)
            .put("torch_vram_free", vramFree)));
  }

  private void objectInfo(RoutingContext ctx) {
    String cls = ctx.pathParam("cls");
    JsonObject out = new JsonObject();
    NodeCatalog.CLASSES.forEach((name, c) -> {
      if (cls == null || cls.equals(name)) {
        out.put(name, NodeCatalog.objectInfo(c, this::folderFiles));
      }
    });
    json(ctx, out);
  }

  private void models(RoutingContext ctx) {
    String folder = ctx.pathParam("folder");
    List<String> files = options.models().get(folder);
    if (files == null && !NodeCatalog.MODEL_FOLDERS.contains(folder)) {
      text(ctx, 404, "404: Not Found");
      return;
    }
    json(ctx, new JsonArray(new ArrayList<>(files == null ? List.of() : files)));
  }

  private void webSocket(RoutingContext ctx) {
    String clientId = ctx.request().getParam("clientId");
    String sid = clientId == null || clientId.isEmpty() ? UUID.randomUUID().toString().replace("-", "") : clientId;
    if (sockets.refused(sid)) {
      stats.websocketsRefused++;
      text(ctx, 503, "503: Service Unavailable");
      return;
    }
    ctx.request().toWebSocket().onSuccess(ws -> sockets.open(ws, sid, worker.queueRemaining(), worker.runningClientId(), worker.executingNode()))
        .onFailure(e -> LOG.debug("emulator: websocket upgrade failed: {}", e.toString()));
  }

  private void postFaults(RoutingContext ctx) {
    JsonObject script = parseBody(ctx);
    if (script == null) {
      json(ctx, 400, new JsonObject().put("error", "the body must be a JSON object: a fault script (see docs/comfyui.md)"));
      return;
    }
    try {
      faults = Faults.parse(script);
      LOG.info("emulator: fault script set: {}", script.encode());
      json(ctx, faults.toJson());
    } catch (IllegalArgumentException e) {
      json(ctx, 400, new JsonObject().put("error", e.getMessage()));
    }
  }
}
