package io.qwenedit.emulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qwenedit.comfy.workflow.WorkflowCatalog;
import io.qwenedit.testing.Await;
import io.qwenedit.testing.Images;
import io.qwenedit.testing.WsRecorder;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.multipart.MultipartForm;
import io.vertx.junit5.VertxExtension;
import java.awt.Color;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The emulator's own protocol, checked against the fact sheet over real HTTP and WebSocket. */
@ExtendWith(VertxExtension.class)
class ComfyEmulatorTest {
  private static final WorkflowCatalog WORKFLOWS = WorkflowCatalog.builtIn("qwen-image-edit-lightning");
  private static final Buffer INPUT = Images.png(64, 48, new Color(40, 120, 200));
  private static final Duration WAIT = Duration.ofSeconds(10);

  private Vertx vertx;
  private WebClient web;
  private ComfyEmulator emulator;
  private final List<WsRecorder> sockets = new ArrayList<>();

  @BeforeEach
  void setUp(Vertx vertx) {
    this.vertx = vertx;
    this.web = WebClient.create(vertx);
  }

  @AfterEach
  void tearDown() {
    sockets.forEach(WsRecorder::close);
    if (emulator != null) {
      Await.await(emulator.close());
    }
    web.close();
  }

  private ComfyEmulator start(EmulatorOptions o) {
    emulator = Await.await(ComfyEmulator.start(vertx, o));
    return emulator;
  }

  private WsRecorder ws(String clientId) {
    return ws("/ws" + (clientId == null ? "" : "?clientId=" + clientId), null);
  }

  private WsRecorder ws(String path, String firstFrame) {
    WsRecorder r = WsRecorder.open(vertx, emulator.port(), path, firstFrame);
    sockets.add(r);
    r.await("the connect status", WAIT, m -> "status".equals(m.getString("type")));
    return r;
  }

  private HttpResponse<Buffer> http(HttpMethod method, String path, Object body) {
    var req = web.request(method, emulator.port(), "127.0.0.1", path);
    if (body instanceof JsonObject j) {
      return Await.await(req.sendJsonObject(j));
    }
    if (body instanceof Buffer b) {
      return Await.await(req.sendBuffer(b));
    }
    if (body instanceof MultipartForm f) {
      return Await.await(req.sendMultipartForm(f));
    }
    return Await.await(req.send());
  }

  private JsonObject getJson(String path) {
    HttpResponse<Buffer> r = http(HttpMethod.GET, path, null);
    assertEquals(200, r.statusCode(), path + ": " + r.bodyAsString());
    return r.bodyAsJsonObject();
  }

  private JsonObject upload(String name, Buffer image) {
    MultipartForm form = MultipartForm.create().attribute("subfolder", "t").binaryFileUpload("image", name, image, "image/png");
    HttpResponse<Buffer> r = http(HttpMethod.POST, "/upload/image", form);
    assertEquals(200, r.statusCode(), r.bodyAsString());
    return r.bodyAsJsonObject();
  }

  private JsonObject graph(String image, String prompt, String prefix) {
    return WORKFLOWS.defaultWorkflow().fill(image, prompt, 5, null, prefix);
  }

  /** Uploads the input and queues a prompt; returns its id. */
  private String submit(String clientId, String prompt, String prefix) {
    JsonObject up = upload("in.png", INPUT);
    String id = UUID.randomUUID().toString();
    JsonObject body = new JsonObject().put("prompt", graph("t/" + up.getString("name"), prompt, prefix)).put("prompt_id", id);
    if (clientId != null) {
      body.put("client_id", clientId);
    }
    HttpResponse<Buffer> r = http(HttpMethod.POST, "/prompt", body);
    assertEquals(200, r.statusCode(), r.bodyAsString());
    assertEquals(id, r.bodyAsJsonObject().getString("prompt_id"));
    assertEquals(new JsonObject(), r.bodyAsJsonObject().getJsonObject("node_errors"));
    return id;
  }

  private void awaitHistory(String id) {
    Await.until("history of " + id, WAIT, () -> !getJson("/history/" + id).isEmpty());
  }

  @Test
  void historyIsEmptyUntilTheEndAndEventsComeInComfyOrderWithComfyFields() {
    start(EmulatorOptions.fast().withStepTime(Duration.ofMillis(30)));
    WsRecorder c1 = ws("c1");
    JsonObject hello = c1.messages.get(0).getJsonObject("data");
    assertEquals("c1", hello.getString("sid"));
    assertEquals(0, hello.getJsonObject("status").getJsonObject("exec_info").getInteger("queue_remaining"));

    String id = submit("c1", "make the sky purple", "qwenedit/j1");
    assertEquals(new JsonObject(), getJson("/history/" + id), "nothing in history while it runs");
    c1.awaitEnd(id, WAIT);
    JsonObject entry = getJson("/history/" + id).getJsonObject(id);
    assertNotNull(entry, "history is written before executing null");

    List<String> types = c1.typesFor(id);
    assertEquals(List.of("execution_start", "execution_cached"), types.subList(0, 2));
    assertEquals("execution_success", types.get(types.size() - 2));
    assertEquals("executing:null", types.get(types.size() - 1));
    assertEquals(4, types.stream().filter("progress"::equals).count());
    assertEquals(1, types.stream().filter("executed"::equals).count());
    assertTrue(types.indexOf("executed") > types.lastIndexOf("progress"));
    // Every node of a first run executes (nothing cached), each announced by executing {node}.
    assertEquals(14, types.stream().filter("executing"::equals).count());

    JsonObject start = find(c1, id, "execution_start");
    assertTrue(start.getLong("timestamp") > 0);
    JsonObject progress = find(c1, id, "progress");
    assertEquals(1, progress.getInteger("value"));
    assertEquals(4, progress.getInteger("max"));
    assertEquals("3", progress.getString("node"));
    JsonObject executed = find(c1, id, "executed");
    assertEquals("60", executed.getString("node"));
    assertEquals("60", executed.getString("display_node"));
    JsonObject image = executed.getJsonObject("output").getJsonArray("images").getJsonObject(0);
    assertEquals(new JsonObject().put("filename", "j1_00001_.png").put("subfolder", "qwenedit").put("type", "output"), image);

    // status broadcast after the history write, then executing null.
    int successAt = indexOf(c1, id, "execution_success");
    int statusAfter = -1;
    for (int i = successAt; i < c1.messages.size(); i++) {
      if ("status".equals(c1.messages.get(i).getString("type"))) {
        statusAfter = i;
        break;
      }
    }
    assertTrue(statusAfter > successAt && statusAfter < indexOf(c1, id, "executing:null"), "status between success and executing null");

    assertEquals("success", entry.getJsonObject("status").getString("status_str"));
    assertTrue(entry.getJsonObject("status").getBoolean("completed"));
    JsonArray messages = entry.getJsonObject("status").getJsonArray("messages");
    assertEquals("execution_start", messages.getJsonArray(0).getString(0));
    assertEquals("execution_success", messages.getJsonArray(messages.size() - 1).getString(0));
    assertEquals(image, entry.getJsonObject("outputs").getJsonObject("60").getJsonArray("images").getJsonObject(0));
    JsonArray prompt = entry.getJsonArray("prompt");
    assertEquals(5, prompt.size());
    assertEquals(id, prompt.getString(1));
    assertEquals("c1", prompt.getJsonObject(3).getString("client_id"));

    HttpResponse<Buffer> view = http(HttpMethod.GET, "/view?filename=j1_00001_.png&subfolder=qwenedit&type=output", null);
    assertEquals(200, view.statusCode());
    assertEquals("image/png", view.getHeader("content-type"));
    assertTrue(EmulatorImages.matches(INPUT, view.body(), "make the sky purple"));
    assertEquals(404, http(HttpMethod.GET, "/view?filename=nope.png&type=output", null).statusCode());
    assertEquals(400, http(HttpMethod.GET, "/view?filename=j1_00001_.png&type=elsewhere", null).statusCode());
    assertEquals(403, http(HttpMethod.GET, "/view?filename=j1_00001_.png&subfolder=../../etc", null).statusCode());
  }

  private static JsonObject find(WsRecorder r, String id, String type) {
    return r.messages.get(indexOf(r, id, type)).getJsonObject("data");
  }

  private static int indexOf(WsRecorder r, String id, String type) {
    for (int i = 0; i < r.messages.size(); i++) {
      JsonObject m = r.messages.get(i);
      JsonObject d = m.getJsonObject("data");
      String t = m.getString("type");
      if ("executing".equals(t) && d.containsKey("node") && d.getValue("node") == null) {
        t = "executing:null";
      }
      if (type.equals(t) && id.equals(d.getString("prompt_id"))) {
        return i;
      }
    }
    throw new AssertionError("no " + type + " for " + id + " in " + r.types());
  }

  @Test
  void executionEventsGoOnlyToThePromptsClient() {
    start(EmulatorOptions.fast());
    WsRecorder mine = ws("c1");
    WsRecorder other = ws("c2");
    String id = submit("c1", "x", "qwenedit/r");
    mine.awaitEnd(id, WAIT);
    assertFalse(mine.typesFor(id).isEmpty());
    assertEquals(List.of(), other.typesFor(id), "another client sees none of it, progress included");
    assertTrue(other.types().stream().allMatch("status"::equals), "only status broadcasts: " + other.types());
    assertTrue(other.types().size() >= 3, "put, start and end were broadcast: " + other.types());
  }

  @Test
  void aPromptWithoutClientIdBroadcastsProgressAndNothingElse() {
    start(EmulatorOptions.fast());
    WsRecorder a = ws("a");
    WsRecorder b = ws(null);
    assertEquals(32, b.messages.get(0).getJsonObject("data").getString("sid").length(), "a server-made sid is uuid4 hex");
    String id = submit(null, "x", "qwenedit/n");
    awaitHistory(id);
    for (WsRecorder r : List.of(a, b)) {
      Await.until("4 progress messages", WAIT, () -> r.typesFor(id).stream().filter("progress"::equals).count() == 4);
      assertFalse(r.typesFor(id).contains("execution_start"), "execution events are not sent at all");
      assertFalse(r.typesFor(id).contains("executing:null"));
    }
  }

  @Test
  void theApiPrefixedTwinsAnswerTheSame() {
    start(EmulatorOptions.fast());
    assertEquals(getJson("/system_stats").getJsonObject("system").getString("comfyui_version"),
        getJson("/api/system_stats").getJsonObject("system").getString("comfyui_version"));
    assertEquals(getJson("/prompt"), getJson("/api/prompt"));
    assertEquals(getJson("/object_info/KSampler"), getJson("/api/object_info/KSampler"));
    assertEquals(new JsonObject(), getJson("/api/object_info/NoSuchNode"));
    WsRecorder r = ws("/api/ws?clientId=apiws", null);
    assertEquals("apiws", r.messages.get(0).getJsonObject("data").getString("sid"));
    assertEquals(404, http(HttpMethod.GET, "/api/nothing-here", null).statusCode());
    JsonObject stats = Await.await(emulator.stats());
    assertEquals(2, stats.getJsonObject("requests").getInteger("GET /system_stats"), "both counted as one endpoint");
  }

  @Test
  void objectInfoListsOurNodeClassesAndModelFiles() {
    start(EmulatorOptions.fast().withoutModel("qwen_image_vae.safetensors"));
    JsonObject all = getJson("/object_info");
    for (String c : List.of("UNETLoader", "CLIPLoader", "VAELoader", "LoraLoaderModelOnly", "ModelSamplingAuraFlow", "CFGNorm", "LoadImage",
        "ImageScaleToTotalPixels", "TextEncodeQwenImageEdit", "TextEncodeQwenImageEditPlus", "VAEEncode", "KSampler", "VAEDecode", "SaveImage")) {
      assertNotNull(all.getJsonObject(c), c);
    }
    JsonArray unets = all.getJsonObject("UNETLoader").getJsonObject("input").getJsonObject("required").getJsonArray("unet_name").getJsonArray(0);
    assertTrue(unets.contains("qwen_image_edit_fp8_e4m3fn.safetensors"));
    assertEquals(new JsonArray(), getJson("/object_info/VAELoader").getJsonObject("VAELoader").getJsonObject("input")
        .getJsonObject("required").getJsonArray("vae_name").getJsonArray(0), "the missing file is not listed");
    assertTrue(all.getJsonObject("SaveImage").getBoolean("output_node"));
    assertEquals("resolution_steps", all.getJsonObject("ImageScaleToTotalPixels").getJsonObject("input_order").getJsonArray("required").getString(3));
    assertEquals(new JsonArray(), new JsonArray(http(HttpMethod.GET, "/models/vae", null).bodyAsString()));
  }

  @Test
  void bodiesOverTheLimitGet413() {
    start(EmulatorOptions.fast().withMaxUploadBytes(100_000));
    MultipartForm big = MultipartForm.create().binaryFileUpload("image", "big.png", Buffer.buffer(new byte[200_000]), "image/png");
    assertEquals(413, http(HttpMethod.POST, "/upload/image", big).statusCode());
    HttpResponse<Buffer> r = http(HttpMethod.POST, "/prompt", Buffer.buffer("{\"prompt\": \"" + "x".repeat(150_000) + "\"}"));
    assertEquals(413, r.statusCode());
    assertTrue(r.bodyAsString().startsWith("Maximum request body size 100000 exceeded"), r.bodyAsString());
    assertEquals(100_000, getJson("/features").getLong("max_upload_size"));
  }

  @Test
  void uploadsRenameOnCollisionAndReuseTheNameForTheSameContent() {
    start(EmulatorOptions.fast());
    assertEquals("cat.png", upload("cat.png", INPUT).getString("name"));
    assertEquals("cat.png", upload("cat.png", INPUT).getString("name"), "same bytes: the existing file is reused");
    Buffer other = Images.png(64, 48, Color.RED);
    assertEquals("cat (1).png", upload("cat.png", other).getString("name"));
    assertEquals("cat (1).png", upload("cat.png", other).getString("name"), "the renamed copy is found by its hash too");
    assertEquals("cat (2).png", upload("cat.png", Images.png(10, 10)).getString("name"));
    MultipartForm overwrite = MultipartForm.create().attribute("subfolder", "t").attribute("overwrite", "true")
        .binaryFileUpload("image", "cat.png", other, "image/png");
    assertEquals("cat.png", http(HttpMethod.POST, "/upload/image", overwrite).bodyAsJsonObject().getString("name"));
    assertEquals(400, http(HttpMethod.POST, "/upload/image", MultipartForm.create().attribute("subfolder", "t")).statusCode(), "no image part");
    JsonObject stats = Await.await(emulator.stats());
    assertEquals(2, stats.getInteger("uploads_renamed"));
    assertEquals(2, stats.getInteger("uploads_reused"));
  }

  @Test
  void promptIdsMustBeCanonicalUuidsAndTheCounterAdvancesOnEveryPost() {
    start(EmulatorOptions.fast());
    JsonObject up = upload("in.png", INPUT);
    JsonObject g = graph("t/" + up.getString("name"), "x", "qwenedit/p");
    HttpResponse<Buffer> bad = http(HttpMethod.POST, "/prompt", new JsonObject().put("prompt", g).put("prompt_id", "ABC-not-a-uuid"));
    assertEquals(400, bad.statusCode());
    assertEquals("invalid_prompt_id", bad.bodyAsJsonObject().getJsonObject("error").getString("type"));
    HttpResponse<Buffer> upper = http(HttpMethod.POST, "/prompt", new JsonObject().put("prompt", g).put("prompt_id", UUID.randomUUID().toString().toUpperCase()));
    assertEquals(400, upper.statusCode(), "lowercase only");
    HttpResponse<Buffer> none = http(HttpMethod.POST, "/prompt", new JsonObject().put("nothing", 1));
    assertEquals("no_prompt", none.bodyAsJsonObject().getJsonObject("error").getString("type"));
    HttpResponse<Buffer> generated = http(HttpMethod.POST, "/prompt", new JsonObject().put("prompt", g).putNull("prompt_id"));
    assertEquals(200, generated.statusCode());
    assertTrue(generated.bodyAsJsonObject().getString("prompt_id").matches("[0-9a-f-]{36}"));
    assertEquals(3, generated.bodyAsJsonObject().getInteger("number"), "three failed posts advanced the counter too");
    assertEquals(500, http(HttpMethod.POST, "/prompt", Buffer.buffer("not json")).statusCode());
  }

  @Test
  void anIdenticalRequeueIsFullyCachedWithNoProgressAndTheOldFile() {
    start(EmulatorOptions.fast());
    WsRecorder c = ws("c1");
    JsonObject up = upload("in.png", INPUT);
    JsonObject g = graph("t/" + up.getString("name"), "x", "qwenedit/same");
    String first = UUID.randomUUID().toString();
    http(HttpMethod.POST, "/prompt", new JsonObject().put("prompt", g).put("prompt_id", first).put("client_id", "c1"));
    c.awaitEnd(first, WAIT);
    String second = UUID.randomUUID().toString();
    http(HttpMethod.POST, "/prompt", new JsonObject().put("prompt", g).put("prompt_id", second).put("client_id", "c1"));
    c.awaitEnd(second, WAIT);
    assertEquals(List.of("execution_start", "execution_cached", "executed", "execution_success", "executing:null"), c.typesFor(second));
    assertEquals(14, find(c, second, "execution_cached").getJsonArray("nodes").size(), "every node cached");
    assertEquals("same_00001_.png", find(c, second, "executed").getJsonObject("output").getJsonArray("images").getJsonObject(0).getString("filename"));

    // A new seed runs the sampler again but keeps the loaders and the image nodes cached.
    String third = UUID.randomUUID().toString();
    g.getJsonObject("3").getJsonObject("inputs").put("seed", 6);
    http(HttpMethod.POST, "/prompt", new JsonObject().put("prompt", g).put("prompt_id", third).put("client_id", "c1"));
    c.awaitEnd(third, WAIT);
    assertEquals(4, c.typesFor(third).stream().filter("progress"::equals).count());
    assertEquals(11, find(c, third, "execution_cached").getJsonArray("nodes").size());
    assertEquals("same_00002_.png", find(c, third, "executed").getJsonObject("output").getJsonArray("images").getJsonObject(0).getString("filename"));
  }

  @Test
  void aReconnectGetsTheExecutingHintAndNothingReplayed() {
    start(EmulatorOptions.fast().withStepTime(Duration.ofMillis(60)));
    WsRecorder first = ws("rc");
    String id = submit("rc", "x", "qwenedit/rc");
    first.await("progress", WAIT, m -> "progress".equals(m.getString("type")));
    first.close();
    sockets.remove(first);
    WsRecorder again = ws("rc");
    JsonObject hint = again.await("the hint", WAIT, m -> "executing".equals(m.getString("type")));
    assertEquals("3", hint.getJsonObject("data").getString("node"));
    assertFalse(hint.getJsonObject("data").containsKey("prompt_id"), "the hint has no prompt id");
    again.awaitEnd(id, WAIT);
    assertFalse(again.typesFor(id).contains("execution_start"), "nothing replayed");
    assertTrue(again.typesFor(id).contains("progress"), "later events reach the new socket");
  }

  @Test
  void targetedInterruptAndQueueDeleteTouchOnlyTheirPrompt() {
    start(EmulatorOptions.fast().withStepTime(Duration.ofMillis(50)));
    WsRecorder c = ws("c1");
    String running = submit("c1", "a", "qwenedit/a");
    String pending = submit("c1", "b", "qwenedit/b");
    c.await("a runs", WAIT, m -> "progress".equals(m.getString("type")));
    JsonObject queue = getJson("/queue");
    assertEquals(running, queue.getJsonArray("queue_running").getJsonArray(0).getString(1));
    assertEquals(pending, queue.getJsonArray("queue_pending").getJsonArray(0).getString(1));
    assertEquals(2, getJson("/prompt").getJsonObject("exec_info").getInteger("queue_remaining"));

    assertEquals(200, http(HttpMethod.POST, "/interrupt", new JsonObject().put("prompt_id", pending)).statusCode());
    assertEquals(200, http(HttpMethod.POST, "/queue", new JsonObject().put("delete", new JsonArray().add(pending))).statusCode());
    assertEquals(0, getJson("/queue").getJsonArray("queue_pending").size());
    assertEquals(1, getJson("/queue").getJsonArray("queue_running").size(), "interrupting a pending id did nothing to the running one");
    http(HttpMethod.POST, "/interrupt", new JsonObject().put("prompt_id", running));
    c.awaitEnd(running, WAIT);
    assertTrue(c.typesFor(running).contains("execution_interrupted"));
    JsonObject entry = getJson("/history/" + running).getJsonObject(running);
    assertEquals("error", entry.getJsonObject("status").getString("status_str"));
    assertEquals(new JsonObject(), getJson("/history/" + pending), "a deleted prompt never gets history");
    // Empty body: a global interrupt, a no-op while idle.
    assertEquals(200, http(HttpMethod.POST, "/interrupt", null).statusCode());
  }

  @Test
  void previewFramesAreBinaryWithMetadataWhenNegotiated() {
    start(EmulatorOptions.fast().withPreviews(true).withPreviewSize(64));
    WsRecorder plain = ws("p1");
    WsRecorder meta = ws("/ws?clientId=p2", "{\"type\":\"feature_flags\",\"data\":{\"supports_preview_metadata\":true}}");
    meta.await("feature flags", WAIT, m -> "feature_flags".equals(m.getString("type")));
    String a = submit("p1", "a", "qwenedit/pa");
    plain.awaitEnd(a, WAIT);
    assertFalse(plain.binary.isEmpty());
    Buffer f = plain.binary.get(0);
    assertEquals(1, f.getInt(0), "PREVIEW_IMAGE");
    assertEquals(1, f.getInt(4), "JPEG");
    assertEquals((byte) 0xFF, f.getByte(8));
    String b = submit("p2", "b", "qwenedit/pb");
    meta.awaitEnd(b, WAIT);
    Buffer g = meta.binary.get(0);
    assertEquals(4, g.getInt(0), "PREVIEW_IMAGE_WITH_METADATA");
    int len = g.getInt(4);
    JsonObject m = new JsonObject(g.getString(8, 8 + len));
    assertEquals(b, m.getString("prompt_id"));
    assertEquals("image/jpeg", m.getString("image_type"));
  }

  @Test
  void faultsAreSetAndClearedAtRunTimeAndStatsCountWhatHappened() {
    start(EmulatorOptions.fast());
    HttpResponse<Buffer> bad = http(HttpMethod.POST, "/_emulator/faults", new JsonObject().put("next", "hang"));
    assertEquals(400, bad.statusCode());
    assertTrue(bad.bodyAsJsonObject().getString("error").contains("\"next\" must be a list"));
    assertEquals(200, http(HttpMethod.POST, "/_emulator/faults", new JsonObject()
        .put("http", new JsonArray().add(new JsonObject().put("fault", "http_500").put("endpoint", "/system_stats").put("times", 1)))
        .put("next", new JsonArray().add(new JsonObject().put("fault", "error").put("node", "VAEDecode")
            .put("exception_type", "RuntimeError").put("exception_message", "boom")))).statusCode());
    assertEquals(500, http(HttpMethod.GET, "/system_stats", null).statusCode());
    assertEquals(200, http(HttpMethod.GET, "/system_stats", null).statusCode());
    WsRecorder c = ws("c1");
    String id = submit("c1", "x", "qwenedit/f");
    c.awaitEnd(id, WAIT);
    JsonObject err = find(c, id, "execution_error");
    assertEquals("8", err.getString("node_id"));
    assertEquals("VAEDecode", err.getString("node_type"));
    assertEquals("RuntimeError", err.getString("exception_type"));
    assertEquals("boom", err.getString("exception_message"));
    assertTrue(err.getJsonArray("executed").contains("3"));
    assertFalse(c.typesFor(id).contains("execution_success"));
    assertEquals("error", getJson("/history/" + id).getJsonObject(id).getJsonObject("status").getString("status_str"));

    assertEquals(200, http(HttpMethod.DELETE, "/_emulator/faults", null).statusCode());
    String ok = submit("c1", "y", "qwenedit/f2");
    c.awaitEnd(ok, WAIT);
    JsonObject stats = getJson("/_emulator/stats");
    assertEquals(1, stats.getInteger("prompts_failed"));
    assertEquals(1, stats.getInteger("prompts_succeeded"));
    assertEquals(1, stats.getInteger("http_faults"));
    assertEquals(2, stats.getJsonObject("clients").getJsonObject("c1").getInteger("accepted"));
    assertTrue(stats.getInteger("connections_opened") >= 1);
    assertEquals(200, http(HttpMethod.DELETE, "/_emulator/stats", null).statusCode());
    assertEquals(0, getJson("/_emulator/stats").getInteger("prompts_succeeded"));
  }

  @Test
  void aWedgedWorkerKeepsAnsweringHttpButRunsNothingUntilRestarted() {
    start(EmulatorOptions.fast().withFaults(new JsonObject().put("next", new JsonArray().add(new JsonObject().put("fault", "wedge")))));
    WsRecorder c = ws("c1");
    String stuck = submit("c1", "x", "qwenedit/w1");
    c.await("some progress", WAIT, m -> "progress".equals(m.getString("type")));
    String next = submit("c1", "y", "qwenedit/w2");
    Await.until("two queued", WAIT, () -> getJson("/prompt").getJsonObject("exec_info").getInteger("queue_remaining") == 2);
    sleep(300);
    assertEquals(new JsonObject(), getJson("/history/" + stuck));
    assertEquals(stuck, getJson("/queue").getJsonArray("queue_running").getJsonArray(0).getString(1), "stays 'running' forever");
    http(HttpMethod.POST, "/interrupt", new JsonObject().put("prompt_id", stuck));
    sleep(200);
    assertEquals(new JsonObject(), getJson("/history/" + stuck), "an interrupt cannot help a dead worker thread");
    assertFalse(getJson("/_emulator/stats").getBoolean("worker_alive"));
    assertEquals(200, http(HttpMethod.POST, "/_emulator/restart", null).statusCode());
    assertEquals(0, getJson("/prompt").getJsonObject("exec_info").getInteger("queue_remaining"), "a restart loses the queue");
    assertEquals(new JsonObject(), getJson("/history/" + next));
    assertTrue(getJson("/_emulator/stats").getBoolean("worker_alive"));
  }

  @Test
  void aHungPromptStopsSendingAndAnInterruptEndsIt() {
    start(EmulatorOptions.fast().withFaults(new JsonObject().put("next", new JsonArray().add(new JsonObject().put("fault", "hang").put("at_step", 2)))));
    WsRecorder c = ws("c1");
    String id = submit("c1", "x", "qwenedit/h");
    c.await("step 1", WAIT, m -> "progress".equals(m.getString("type")));
    sleep(300);
    int seen = c.messages.size();
    sleep(300);
    assertEquals(seen, c.messages.size(), "silence: no message while hung");
    assertEquals(1, c.typesFor(id).stream().filter("progress"::equals).count(), "it stopped after step 1");
    http(HttpMethod.POST, "/interrupt", new JsonObject().put("prompt_id", id));
    c.awaitEnd(id, WAIT);
    JsonObject interrupted = find(c, id, "execution_interrupted");
    assertEquals("3", interrupted.getString("node_id"));
    assertEquals("KSampler", interrupted.getString("node_type"));
  }

  @Test
  void theFirstPromptLoadsModelsSilentlyAndLaterOnesDoNot() {
    start(EmulatorOptions.fast().withModelLoadTime(Duration.ofMillis(600)));
    WsRecorder c = ws("c1");
    String first = submit("c1", "a", "qwenedit/m1");
    c.awaitEnd(first, WAIT);
    String second = submit("c1", "b", "qwenedit/m2");
    c.awaitEnd(second, WAIT);
    assertTrue(longestSilence(c, first) >= 550, "model load: a long silence inside the first run");
    assertTrue(find(c, second, "execution_cached").getJsonArray("nodes").contains("37"), "the loaders are cached in the second run");
  }

  /** The longest gap between two consecutive messages about a prompt (their arrival order, their timestamps). */
  private static long longestSilence(WsRecorder r, String id) {
    long longest = 0;
    Long previous = null;
    for (int i = 0; i < r.messages.size(); i++) {
      JsonObject d = r.messages.get(i).getJsonObject("data");
      if (d != null && id.equals(d.getString("prompt_id")) && r.arrivals.size() > i) {
        long at = r.arrivals.get(i);
        if (previous != null) {
          longest = Math.max(longest, at - previous);
        }
        previous = at;
      }
    }
    return longest;
  }

  @Test
  void freeDropsTheCacheSoTheNextRunExecutesEverything() {
    start(EmulatorOptions.fast());
    WsRecorder c = ws("c1");
    JsonObject up = upload("in.png", INPUT);
    JsonObject g = graph("t/" + up.getString("name"), "x", "qwenedit/fr");
    String a = UUID.randomUUID().toString();
    http(HttpMethod.POST, "/prompt", new JsonObject().put("prompt", g).put("prompt_id", a).put("client_id", "c1"));
    c.awaitEnd(a, WAIT);
    assertEquals(500, http(HttpMethod.POST, "/free", null).statusCode(), "an empty body is a JSON error in ComfyUI");
    assertEquals(200, http(HttpMethod.POST, "/free", new JsonObject().put("unload_models", true).put("free_memory", true)).statusCode());
    String b = UUID.randomUUID().toString();
    http(HttpMethod.POST, "/prompt", new JsonObject().put("prompt", g).put("prompt_id", b).put("client_id", "c1"));
    c.awaitEnd(b, WAIT);
    assertEquals(0, find(c, b, "execution_cached").getJsonArray("nodes").size());
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Test
  void historyListingHonoursMaxItemsAndOffsetAndCanBeDeleted() {
    start(EmulatorOptions.fast().withStepTime(Duration.ofMillis(1)));
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      String id = submit(null, "p" + i, "qwenedit/h" + i);
      awaitHistory(id);
      ids.add(id);
    }
    assertEquals(List.of(ids.get(2)), new ArrayList<>(getJson("/history?max_items=1").fieldNames()));
    assertEquals(List.of(ids.get(1), ids.get(2)), new ArrayList<>(getJson("/history?max_items=5&offset=1").fieldNames()));
    assertEquals(3, getJson("/history").size());
    http(HttpMethod.POST, "/history", new JsonObject().put("delete", new JsonArray().add(ids.get(0))));
    assertEquals(new JsonObject(), getJson("/history/" + ids.get(0)));
    http(HttpMethod.POST, "/history", new JsonObject().put("clear", true));
    assertEquals(new JsonObject(), getJson("/history"));
  }

  @Test
  void aBadFaultScriptStopsStartWithAMessage() {
    Throwable t = Await.failure(ComfyEmulator.start(vertx, EmulatorOptions.fast().withFaults(new JsonObject().put("always", new JsonObject().put("fault", "explode")))));
    assertTrue(t.getMessage().startsWith("Bad fault script: always: \"fault\" must be one of"), t.getMessage());
    assertNull(emulator);
  }
}
