package io.qwenedit.api;

import static io.qwenedit.testing.Await.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qwenedit.queue.Job;
import io.qwenedit.queue.JobState;
import io.qwenedit.queue.QueueResults.Claimed;
import io.qwenedit.queue.QueueResults.Lease;
import io.qwenedit.testing.Images;
import io.qwenedit.testing.RedisServerExtension;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.multipart.MultipartForm;
import io.vertx.redis.client.Command;
import java.util.Base64;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Every call of the HTTP API and every error it answers, against a real redis-server and a real HTTP server. */
class HttpApiTest {
  @RegisterExtension
  static final RedisServerExtension REDIS = new RedisServerExtension();

  static final String KEY_A = "test-key-aaaaaaaaaaaaaaaaaaaa";
  static final String KEY_B = "test-key-bbbbbbbbbbbbbbbbbbbb";

  private ApiHarness h;

  @AfterEach
  void stop() {
    if (h != null) {
      h.close();
      h = null;
    }
  }

  private ApiHarness start(String... overrides) {
    h = ApiHarness.start(REDIS.url(), overrides);
    return h;
  }

  private ApiHarness startWithKeys(String... overrides) {
    String[] all = new String[overrides.length + 2];
    all[0] = "API_KEYS";
    all[1] = KEY_A + "," + KEY_B;
    System.arraycopy(overrides, 0, all, 2, overrides.length);
    return start(all);
  }

  static MultipartForm form(String prompt, Buffer image) {
    MultipartForm form = MultipartForm.create();
    if (prompt != null) {
      form.attribute("prompt", prompt);
    }
    if (image != null) {
      form.binaryFileUpload("image", "photo.png", image, "image/png");
    }
    return form;
  }

  private HttpRequest<Buffer> request(HttpMethod method, String path, String key) {
    HttpRequest<Buffer> r = h.http.request(method, path);
    if (key != null) {
      r.bearerTokenAuthentication(key);
    }
    return r;
  }

  private HttpResponse<Buffer> submit(String key, MultipartForm form) {
    return await(request(HttpMethod.POST, "/v1/jobs", key).sendMultipartForm(form));
  }

  private HttpResponse<Buffer> submit(String key, String prompt) {
    return submit(key, form(prompt, Images.png(64, 48)));
  }

  private HttpResponse<Buffer> get(String path, String key) {
    return await(request(HttpMethod.GET, path, key).send());
  }

  static JsonObject error(HttpResponse<Buffer> r, int status, String code) {
    assertEquals(status, r.statusCode(), () -> "body: " + r.bodyAsString());
    assertTrue(r.getHeader("Content-Type").startsWith("application/json"), r.getHeader("Content-Type"));
    JsonObject body = r.bodyAsJsonObject();
    JsonObject err = body.getJsonObject("error");
    assertNotNull(err, "an error object: " + body);
    assertEquals(code, err.getString("code"), body::encode);
    String message = err.getString("message");
    assertTrue(message != null && message.length() > 10, "a readable message: " + body);
    assertFalse(message.contains("Exception") || message.contains("\tat "), "no stack trace or class name: " + message);
    return err;
  }

  /** Keys in Redis besides the API's own entry in the services registry (which `status` reads). */
  private long dbSize() {
    long registry = await(h.redis.send(Command.EXISTS, h.queue.keys().services())).toLong()
        + await(h.redis.send(Command.ZCARD, h.queue.keys().services())).toLong();
    return Long.parseLong(REDIS.command("DBSIZE").substring(1)) - registry;
  }

  // ---------------------------------------------------------------- submit

  @Test
  void multipartSubmissionIsQueuedWithIdPositionAndLinks() {
    start();
    HttpResponse<Buffer> first = submit(null, "make the sky purple");
    HttpResponse<Buffer> second = submit(null, "remove the man on the left");
    assertEquals(202, first.statusCode(), first.bodyAsString());
    JsonObject a = first.bodyAsJsonObject();
    JsonObject b = second.bodyAsJsonObject();
    assertEquals("queued", a.getString("state"));
    assertEquals(1, a.getInteger("position"));
    assertEquals(2, b.getInteger("position"));
    assertFalse(a.getBoolean("duplicate"));
    String id = a.getString("id");
    assertEquals("/v1/jobs/" + id, a.getString("status_url"));
    assertEquals("/v1/jobs/" + id + "/events", a.getString("events_url"));
    assertEquals("/v1/jobs/" + id, first.getHeader("Location"));
    Job stored = await(h.queue.get(id));
    assertEquals("make the sky purple", stored.prompt());
    assertEquals("api", stored.source().getString("kind"));
    assertEquals(Images.png(64, 48).length(), await(h.queue.image(stored.inputRef())).length());
  }

  @Test
  void multipartSubmissionCarriesWorkflowSeedAndSteps() {
    start();
    MultipartForm f = form("make it snow", Images.jpeg(80, 60)).attribute("workflow", "qwen-edit-fast")
        .attribute("seed", "1234567890123").attribute("steps", "12");
    HttpResponse<Buffer> r = submit(null, f);
    assertEquals(202, r.statusCode(), r.bodyAsString());
    Job job = await(h.queue.get(r.bodyAsJsonObject().getString("id")));
    assertEquals("qwen-edit-fast", job.workflow());
    assertEquals(1234567890123L, job.params().getLong("seed"));
    assertEquals(12, job.params().getInteger("steps"));
    assertEquals("jpeg", job.inputInfo().getString("format"));
  }

  @Test
  void jsonSubmissionWithBase64ImageIsQueued() {
    start();
    Buffer png = Images.png(32, 32);
    JsonObject body = new JsonObject().put("prompt", "add a hat").put("steps", 8)
        .put("image", "data:image/png;base64," + Base64.getEncoder().encodeToString(png.getBytes()));
    HttpResponse<Buffer> r = await(request(HttpMethod.POST, "/v1/jobs", null).sendJsonObject(body));
    assertEquals(202, r.statusCode(), r.bodyAsString());
    Job job = await(h.queue.get(r.bodyAsJsonObject().getString("id")));
    assertEquals("add a hat", job.prompt());
    assertEquals(8, job.params().getInteger("steps"));
    assertArrayEquals(png.getBytes(), await(h.queue.image(job.inputRef())).getBytes());
  }

  @Test
  void missingPromptIs400AndNothingIsStored() {
    start();
    JsonObject err = error(submit(null, form(null, Images.png(16, 16))), 400, "prompt_missing");
    assertTrue(err.getString("message").contains("make the sky purple"), err.encode());
    error(submit(null, form("   ", Images.png(16, 16))), 400, "prompt_missing");
    assertEquals(0, dbSize(), "nothing stored for a refused request");
  }

  @Test
  void missingImageAndBadParametersAre400() {
    start();
    error(submit(null, form("make it blue", null)), 400, "image_missing");
    error(submit(null, form("x", Images.png(8, 8)).attribute("seed", "lucky")), 400, "bad_input");
    error(submit(null, form("x", Images.png(8, 8)).attribute("steps", "500")), 400, "bad_input");
    error(await(request(HttpMethod.POST, "/v1/jobs", null).putHeader("Content-Type", "application/json")
        .sendBuffer(Buffer.buffer("{\"prompt\": \"x\", "))), 400, "bad_json");
    error(await(request(HttpMethod.POST, "/v1/jobs", null).sendJsonObject(new JsonObject().put("prompt", "x").put("image", "%%%"))),
        400, "bad_image_encoding");
    error(await(request(HttpMethod.POST, "/v1/jobs", null).sendJsonObject(new JsonObject().put("prompt", "x".repeat(1001))
        .put("image", Base64.getEncoder().encodeToString(Images.png(8, 8).getBytes())))), 400, "prompt_too_long");
    assertEquals(0, dbSize());
  }

  @Test
  void nonImageIs415AndUnsupportedContentTypeIs415() {
    start();
    MultipartForm f = MultipartForm.create().attribute("prompt", "x")
        .binaryFileUpload("image", "notes.txt", Buffer.buffer("just some text, not a picture at all"), "text/plain");
    JsonObject err = error(submit(null, f), 415, "not_an_image");
    assertTrue(err.getString("message").contains("PNG"), err.encode());
    error(await(request(HttpMethod.POST, "/v1/jobs", null).putHeader("Content-Type", "text/plain")
        .sendBuffer(Buffer.buffer("make the sky purple"))), 415, "unsupported_media_type");
    assertEquals(0, dbSize());
  }

  @Test
  void imageOverTheLimitIs413() {
    start("MAX_IMAGE_BYTES", "20000");
    Buffer big = Images.png(16, 16).appendBuffer(Buffer.buffer(new byte[30_000]));
    error(submit(null, form("x", big)), 413, "image_too_large");
    error(await(request(HttpMethod.POST, "/v1/jobs", null).sendJsonObject(new JsonObject().put("prompt", "x")
        .put("image", Base64.getEncoder().encodeToString(Images.png(16, 16).appendBuffer(Buffer.buffer(new byte[22_000])).getBytes())))),
        413, "image_too_large");
    assertEquals(0, dbSize());
  }

  @Test
  void imageWithTooManyPixelsIs413() {
    start("MAX_IMAGE_PIXELS", "1000");
    error(submit(null, form("x", Images.png(100, 100))), 413, "image_too_many_pixels");
    assertEquals(0, dbSize());
  }

  @Test
  void queueOverItsDepthIs429WithRetryAfterAndStoresNothing() {
    start("QUEUE_MAX_DEPTH", "2", "API_QUEUE_FULL_RETRY_AFTER", "45s");
    assertEquals(202, submit(null, "one").statusCode());
    assertEquals(202, submit(null, "two").statusCode());
    long keysBefore = dbSize();
    HttpResponse<Buffer> r = submit(null, "three");
    JsonObject err = error(r, 429, "queue_full");
    assertEquals("45", r.getHeader("Retry-After"));
    assertTrue(err.getString("message").contains("busy"), err.encode());
    assertEquals(keysBefore, dbSize(), "the refused image was not stored");
    // Room again once a job leaves the line.
    h.worker().claim();
    assertEquals(202, submit(null, "four").statusCode());
  }

  @Test
  void clientOverItsRateIs429WithRetryAfter() {
    startWithKeys("API_RATE_LIMIT", "6", "API_RATE_BURST", "2");
    assertEquals(202, submit(KEY_A, "one").statusCode());
    assertEquals(202, submit(KEY_A, "two").statusCode());
    HttpResponse<Buffer> r = submit(KEY_A, "three");
    error(r, 429, "rate_limited");
    long retryAfter = Long.parseLong(r.getHeader("Retry-After"));
    assertTrue(retryAfter >= 1 && retryAfter <= 10, "one submission per 10 s: " + retryAfter);
    // Another key has its own budget.
    assertEquals(202, submit(KEY_B, "other client").statusCode());
    assertEquals(3L, await(h.queue.depth()));
  }

  // ---------------------------------------------------------------- keys

  @Test
  void missingKeyIs401AndWrongKeyIs403() {
    startWithKeys();
    HttpResponse<Buffer> none = submit(null, "x");
    error(none, 401, "unauthorized");
    assertTrue(none.getHeader("WWW-Authenticate").startsWith("Bearer"));
    error(get("/v1/jobs/abc", null), 401, "unauthorized");
    error(submit("not-a-valid-key-at-all-zzzz", "x"), 403, "forbidden");
    error(await(h.http.get("/v1/jobs/abc").putHeader("X-API-Key", "wrong-wrong-wrong-wrong").send()), 403, "forbidden");
    assertEquals(0, dbSize());
    // X-API-Key works as well as a bearer token.
    HttpResponse<Buffer> ok = await(h.http.post("/v1/jobs").putHeader("X-API-Key", KEY_B).sendMultipartForm(form("x", Images.png(8, 8))));
    assertEquals(202, ok.statusCode(), ok.bodyAsString());
  }

  @Test
  void keysNeverAppearInTheLog() {
    ch.qos.logback.classic.Logger root = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> log = new ch.qos.logback.core.read.ListAppender<>();
    log.start();
    root.addAppender(log);
    try {
      startWithKeys();
      String wrong = "almost-" + KEY_A;
      submit(KEY_A, "x");
      submit(wrong, "x");
      await(h.http.get("/v1/jobs/abc").putHeader("X-API-Key", KEY_B).send());
      assertTrue(log.list.size() > 2, "the requests were logged: " + log.list.size());
      for (var event : log.list) {
        String line = event.getFormattedMessage();
        assertFalse(line.contains(KEY_A) || line.contains(KEY_B) || line.contains("almost-"), "a key in the log: " + line);
      }
    } finally {
      root.detachAppender(log);
    }
  }

  @Test
  void aJobIsVisibleOnlyToTheKeyThatSubmittedIt() {
    startWithKeys();
    String id = submit(KEY_A, "mine").bodyAsJsonObject().getString("id");
    assertEquals(200, get("/v1/jobs/" + id, KEY_A).statusCode());
    error(get("/v1/jobs/" + id, KEY_B), 404, "job_not_found");
    error(get("/v1/jobs/" + id + "/result", KEY_B), 404, "job_not_found");
    error(await(request(HttpMethod.DELETE, "/v1/jobs/" + id, KEY_B).send()), 404, "job_not_found");
    assertEquals(JobState.QUEUED, await(h.queue.get(id)).state(), "another key cannot cancel it");
    // The record names the key by fingerprint only.
    String source = await(h.queue.get(id)).source().encode();
    assertFalse(source.contains(KEY_A), source);
    assertTrue(source.contains(ApiKeys.fingerprint(KEY_A)), source);
  }

  @Test
  void withoutKeysOnlyRequestsFromThisMachineAreServed() {
    start();
    assertEquals(202, submit(null, "local").statusCode());
    HttpResponse<Buffer> proxied = await(h.http.post("/v1/jobs").putHeader("X-Forwarded-For", "203.0.113.7")
        .sendMultipartForm(form("from afar", Images.png(8, 8))));
    JsonObject err = error(proxied, 403, "local_only");
    assertTrue(err.getString("message").contains("API_KEYS"), err.encode());
    // Health and metrics stay open to the load balancer and Prometheus.
    assertEquals(200, await(h.http.get("/health/live").putHeader("X-Forwarded-For", "203.0.113.7").send()).statusCode());
  }

  // ---------------------------------------------------------------- router errors

  @Test
  void unknownPathsAndMethodsAnswerJsonErrors() {
    start();
    error(get("/nope", null), 404, "not_found");
    error(get("/v1/nope", null), 404, "not_found");
    error(await(request(HttpMethod.PUT, "/v1/jobs", null).sendBuffer(Buffer.buffer("x"))), 405, "method_not_allowed");
    error(await(request(HttpMethod.PATCH, "/v1/jobs/abc", null).send()), 405, "method_not_allowed");
    error(get("/v1/jobs/abc", null), 404, "job_not_found");
    error(get("/v1/jobs/" + "x".repeat(100), null), 404, "job_not_found");
  }

  // ---------------------------------------------------------------- status, result

  @Test
  void statusShowsStatePositionProgressAttemptsAndError() {
    start();
    String first = submit(null, "first").bodyAsJsonObject().getString("id");
    String second = submit(null, "second").bodyAsJsonObject().getString("id");
    JsonObject queued = get("/v1/jobs/" + second, null).bodyAsJsonObject();
    assertEquals("queued", queued.getString("state"));
    assertEquals(2, queued.getInteger("position"));
    assertEquals(0, queued.getInteger("attempts"));
    assertEquals("second", queued.getString("prompt"));

    TestWorker worker = h.worker();
    Claimed c = worker.claim();
    assertEquals(first, c.id());
    worker.progress(c, 7, 20);
    JsonObject running = get("/v1/jobs/" + first, null).bodyAsJsonObject();
    assertEquals("running", running.getString("state"));
    assertNull(running.getValue("position"));
    assertEquals(1, running.getInteger("attempts"));
    assertEquals(7, running.getJsonObject("progress").getInteger("value"));
    assertEquals(20, running.getJsonObject("progress").getInteger("max"));
    assertEquals(1, get("/v1/jobs/" + second, null).bodyAsJsonObject().getInteger("position"));

    worker.failPermanently(c, "invalid_workflow", "The workflow has no LoadImage node");
    JsonObject failed = get("/v1/jobs/" + first, null).bodyAsJsonObject();
    assertEquals("failed", failed.getString("state"));
    assertEquals("invalid_workflow", failed.getJsonObject("error").getString("code"));
    assertEquals("The workflow has no LoadImage node", failed.getJsonObject("error").getString("message"));
    assertNull(failed.getValue("result"));
  }

  @Test
  void resultIs409UntilTheJobSucceedsThenTheImage() {
    start();
    String id = submit(null, "make it purple").bodyAsJsonObject().getString("id");
    HttpResponse<Buffer> early = get("/v1/jobs/" + id + "/result", null);
    JsonObject err = error(early, 409, "job_not_finished");
    assertTrue(err.getString("message").contains("queued"), err.encode());

    TestWorker worker = h.worker();
    Claimed c = worker.claim();
    error(get("/v1/jobs/" + id + "/result", null), 409, "job_not_finished");
    assertTrue(worker.succeed(c).accepted());

    HttpResponse<Buffer> r = get("/v1/jobs/" + id + "/result", null);
    assertEquals(200, r.statusCode());
    assertEquals("image/png", r.getHeader("Content-Type"));
    Job done = await(h.queue.get(id));
    assertArrayEquals(await(h.queue.image(done.resultRef())).getBytes(), r.body().getBytes());
    JsonObject status = get("/v1/jobs/" + id, null).bodyAsJsonObject();
    assertEquals("succeeded", status.getString("state"));
    assertEquals("/v1/jobs/" + id + "/result", status.getJsonObject("result").getString("url"));
    assertEquals(40, status.getJsonObject("result").getInteger("width"));
  }

  @Test
  void resultOfAFailedJobIs409WithItsErrorAndOfAnExpiredResult410() {
    start();
    String failedId = submit(null, "a").bodyAsJsonObject().getString("id");
    String doneId = submit(null, "b").bodyAsJsonObject().getString("id");
    TestWorker worker = h.worker();
    worker.failPermanently(worker.claim(), "invalid_workflow", "The workflow has no LoadImage node");
    worker.succeed(worker.claim());
    JsonObject err = error(get("/v1/jobs/" + failedId + "/result", null), 409, "job_has_no_result");
    assertTrue(err.getString("message").contains("LoadImage"), err.encode());
    Job done = await(h.queue.get(doneId));
    await(h.redis.send(Command.DEL, h.queue.keys().image(done.resultRef())));
    error(get("/v1/jobs/" + doneId + "/result", null), 410, "result_expired");
  }

  // ---------------------------------------------------------------- idempotency

  @Test
  void sameIdempotencyKeyGivesTheSameJobPerApiKey() {
    startWithKeys();
    HttpResponse<Buffer> a = await(request(HttpMethod.POST, "/v1/jobs", KEY_A).putHeader("Idempotency-Key", "order-17")
        .sendMultipartForm(form("make it snow", Images.png(16, 16))));
    HttpResponse<Buffer> again = await(request(HttpMethod.POST, "/v1/jobs", KEY_A).putHeader("Idempotency-Key", "order-17")
        .sendMultipartForm(form("make it snow", Images.png(16, 16))));
    HttpResponse<Buffer> otherKey = await(request(HttpMethod.POST, "/v1/jobs", KEY_B).putHeader("Idempotency-Key", "order-17")
        .sendMultipartForm(form("make it snow", Images.png(16, 16))));
    assertEquals(202, a.statusCode());
    assertEquals(202, again.statusCode());
    assertEquals(a.bodyAsJsonObject().getString("id"), again.bodyAsJsonObject().getString("id"));
    assertFalse(a.bodyAsJsonObject().getBoolean("duplicate"));
    assertTrue(again.bodyAsJsonObject().getBoolean("duplicate"));
    assertEquals(1, again.bodyAsJsonObject().getInteger("position"));
    assertNotEquals(a.bodyAsJsonObject().getString("id"), otherKey.bodyAsJsonObject().getString("id"));
    assertEquals(2L, await(h.queue.depth()));

    // A duplicate of a job that already runs still answers with that job.
    h.worker().claim();
    JsonObject running = await(request(HttpMethod.POST, "/v1/jobs", KEY_A).putHeader("Idempotency-Key", "order-17")
        .sendMultipartForm(form("make it snow", Images.png(16, 16)))).bodyAsJsonObject();
    assertEquals(a.bodyAsJsonObject().getString("id"), running.getString("id"));
    assertEquals("running", running.getString("state"));
    assertNull(running.getValue("position"));

    error(await(request(HttpMethod.POST, "/v1/jobs", KEY_A).putHeader("Idempotency-Key", "has spaces in it")
        .sendMultipartForm(form("x", Images.png(8, 8)))), 400, "bad_idempotency_key");
  }

  // ---------------------------------------------------------------- cancel

  @Test
  void cancelWhileQueuedRemovesTheJobAtOnce() {
    start();
    String id = submit(null, "never mind").bodyAsJsonObject().getString("id");
    HttpResponse<Buffer> r = await(request(HttpMethod.DELETE, "/v1/jobs/" + id, null).send());
    assertEquals(200, r.statusCode(), r.bodyAsString());
    assertEquals("cancelled", r.bodyAsJsonObject().getString("state"));
    assertEquals("cancelled", get("/v1/jobs/" + id, null).bodyAsJsonObject().getString("state"));
    assertEquals(0L, await(h.queue.depth()));
    error(await(request(HttpMethod.DELETE, "/v1/jobs/" + id, null).send()), 409, "job_already_finished");
    error(await(request(HttpMethod.DELETE, "/v1/jobs/nosuchjob", null).send()), 404, "job_not_found");
  }

  @Test
  void cancelWhileRunningTellsTheWorkerWhichStopsTheJob() {
    start();
    String id = submit(null, "long edit").bodyAsJsonObject().getString("id");
    TestWorker worker = h.worker();
    Claimed c = worker.claim();
    HttpResponse<Buffer> r = await(request(HttpMethod.DELETE, "/v1/jobs/" + id, null).send());
    assertEquals(202, r.statusCode(), r.bodyAsString());
    assertTrue(r.bodyAsJsonObject().getBoolean("cancel_requested"));
    assertTrue(get("/v1/jobs/" + id, null).bodyAsJsonObject().getBoolean("cancel_requested"));
    // The worker learns it on its next progress report, as the real one does, and stops.
    Lease lease = worker.progress(c, 3, 20);
    assertTrue(lease.cancelRequested());
    assertTrue(worker.stopCancelled(c).accepted());
    JsonObject end = get("/v1/jobs/" + id, null).bodyAsJsonObject();
    assertEquals("cancelled", end.getString("state"));
    error(get("/v1/jobs/" + id + "/result", null), 409, "job_has_no_result");
  }

  // ---------------------------------------------------------------- upload limits on the wire

  @Test
  void aClientThatStallsInTheMiddleOfAnUploadIsDisconnectedAfterTheIdleTimeout() throws Exception {
    h = ApiHarness.start(REDIS.url(), "API_IDLE_TIMEOUT", "1s", "API_EVENTS_KEEPALIVE", "500ms");
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", h.port)) {
      s.setSoTimeout(15_000);
      s.getOutputStream().write(("POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=xyz"
          + "\r\nContent-Length: 100000\r\n\r\n--xyz\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      s.getOutputStream().flush(); // ... and nothing more: the rest of the body never comes
      long t0 = System.nanoTime();
      int read;
      try {
        while ((read = s.getInputStream().read()) >= 0) {
          // an answer may come first; the connection must end either way
        }
      } catch (java.net.SocketException reset) {
        read = -1;
      }
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertEquals(-1, read);
      assertTrue(ms < 10_000, "closed after " + ms + " ms");
    }
  }

  @Test
  void anEventKeepAliveLongerThanHalfTheIdleTimeoutIsRefusedAtStart() {
    io.qwenedit.config.ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(io.qwenedit.config.ConfigException.class,
        () -> io.qwenedit.testing.TestConfigs.config(REDIS.url(), "API_IDLE_TIMEOUT", "20s"));
    assertTrue(e.getMessage().startsWith("Invalid settings API_EVENTS_KEEPALIVE=15s (from default) and API_IDLE_TIMEOUT=20s (from"
        + " test): the keep-alive must be at most half the idle timeout"), e.getMessage());
  }

  @Test
  void announcedBodyOverTheLimitIs413BeforeAnyOfItIsRead() throws Exception {
    start("MAX_IMAGE_BYTES", "100000");
    RawHttp.Response r = RawHttp.postHeadersOnly(h.port, "/v1/jobs", "multipart/form-data; boundary=xyz", 50_000_000);
    assertEquals(413, r.status(), r.raw());
    JsonObject body = new JsonObject(r.body());
    assertEquals("request_too_large", body.getJsonObject("error").getString("code"));
    assertTrue(r.raw().toLowerCase().contains("connection: close"), r.raw());
    assertEquals(0, dbSize(), "nothing stored");
  }

  @Test
  void streamedBodyOverTheLimitIsCutOffWith413() throws Exception {
    start("MAX_IMAGE_BYTES", "100000");
    long endless = 2_000_000_000L;
    RawHttp.Streamed s = RawHttp.postChunkedForever(h.port, "/v1/jobs", "application/json", endless);
    assertEquals(413, s.response().status(), s.response().raw());
    assertEquals("request_too_large", new JsonObject(s.response().body()).getJsonObject("error").getString("code"));
    // Socket buffers swallow a few MB before the sender notices; what matters is that the server hung up.
    assertTrue(s.hungUp(), "the server closed the connection on the sender (it sent " + s.bytesSent() + " bytes)");
    assertTrue(s.bytesSent() < endless, "the upload was cut off");
    assertEquals(0, dbSize(), "nothing stored");
    // The server is fine afterwards.
    assertEquals(202, submit(null, "next").statusCode());
  }

  @Test
  void queueUnreachableIs503WithRetryAfter() {
    start("REDIS_COMMAND_TIMEOUT", "500ms");
    REDIS.server().kill();
    HttpResponse<Buffer> r = submit(null, "x");
    error(r, 503, "unavailable");
    assertEquals("5", r.getHeader("Retry-After"));
    error(get("/v1/jobs/abcdef", null), 503, "unavailable");
  }
}
