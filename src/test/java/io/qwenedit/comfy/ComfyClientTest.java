package io.qwenedit.comfy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qwenedit.comfy.workflow.WorkflowCatalog;
import io.qwenedit.emulator.ComfyEmulator;
import io.qwenedit.emulator.EmulatorImages;
import io.qwenedit.emulator.EmulatorOptions;
import io.qwenedit.metrics.JobMetrics;
import io.qwenedit.testing.Await;
import io.qwenedit.testing.Images;
import io.qwenedit.testing.TcpProxy;
import io.qwenedit.testing.TestConfigs;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.multipart.MultipartForm;
import io.vertx.junit5.VertxExtension;
import java.awt.Color;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The dispatch client over real HTTP and WebSocket against the emulator, every failure made to happen. */
@ExtendWith(VertxExtension.class)
class ComfyClientTest {
  static final WorkflowCatalog WORKFLOWS = WorkflowCatalog.builtIn("qwen-image-edit-lightning");
  static final Buffer INPUT = Images.png(96, 64, new Color(40, 120, 200));

  private Vertx vertx;
  private final List<ComfyClient> clients = new ArrayList<>();
  private final List<ComfyEmulator> emulators = new ArrayList<>();

  @BeforeEach
  void setUp(Vertx vertx) {
    this.vertx = vertx;
  }

  @AfterEach
  void tearDown() {
    clients.forEach(c -> Await.await(c.close().recover(e -> Future.succeededFuture())));
    emulators.forEach(e -> Await.await(e.close().recover(x -> Future.succeededFuture())));
  }

  private ComfyEmulator emulator(EmulatorOptions options) {
    ComfyEmulator e = Await.await(ComfyEmulator.start(vertx, options));
    emulators.add(e);
    return e;
  }

  private static ComfyClientOptions options() {
    return ComfyClientOptions.from(TestConfigs.config("redis://127.0.0.1:1/0").comfy(), WORKFLOWS)
        .withTimeout(Duration.ofSeconds(15))
        .withStallTimeout(Duration.ofSeconds(5))
        .withQueueTimeout(Duration.ofSeconds(15))
        .withPollInterval(Duration.ofMillis(200))
        .withRequestTimeout(Duration.ofSeconds(3))
        .withInterruptConfirmTimeout(Duration.ofSeconds(3))
        .withPoolSize(2);
  }

  private ComfyClient client(ComfyEmulator e, ComfyClientOptions o) {
    return client(e.baseUri(), o);
  }

  private ComfyClient client(URI base, ComfyClientOptions o) {
    ComfyClient c = new ComfyClient(vertx, base, o);
    clients.add(c);
    return c;
  }

  private static DispatchRequest request(String jobId, String prompt) {
    return DispatchRequest.of(jobId, UUID.randomUUID().toString(), INPUT, jobId + ".png", prompt);
  }

  /** Records what the listener is told. */
  static final class Recorder implements DispatchListener {
    final List<String> events = new CopyOnWriteArrayList<>();
    final List<int[]> progress = new CopyOnWriteArrayList<>();
    final Promise<Void> started = Promise.promise();
    volatile long startedAt;

    @Override
    public void onSubmitted(String promptId, int queueRemaining) {
      events.add("submitted:" + queueRemaining);
    }

    @Override
    public void onStarted() {
      events.add("started");
      startedAt = System.currentTimeMillis();
      started.tryComplete();
    }

    @Override
    public void onProgress(int value, int max, String node) {
      progress.add(new int[] {value, max});
    }

    @Override
    public void onActivity() {
      events.add("activity");
    }
  }

  private static ComfyException failure(Future<?> f) {
    Throwable t = Await.failure(f);
    assertTrue(t instanceof ComfyException, "expected a ComfyException, got " + t);
    return (ComfyException) t;
  }

  private JsonObject stats(ComfyEmulator e) {
    return Await.await(e.stats());
  }

  @Test
  void normalEditEndToEndReturnsAnImageDerivedFromTheInput() {
    ComfyEmulator e = emulator(EmulatorOptions.fast());
    ComfyClient c = client(e, options());
    Recorder rec = new Recorder();
    DispatchRequest req = request("job-1", "make the sky purple");
    DispatchResult r = Await.await(c.dispatch(req, rec));

    assertTrue(EmulatorImages.matches(INPUT, r.image(), "make the sky purple"), "the result is this input's edit, for this prompt");
    assertFalse(EmulatorImages.matches(Images.png(96, 64, Color.RED), r.image()), "and not any other image's");
    int[] size = EmulatorImages.size(r.image());
    assertEquals(0, size[0] % 8);
    assertEquals(0, size[1] % 8);
    assertTrue(Math.abs((double) size[0] * size[1] - 1024 * 1024) < 0.02 * 1024 * 1024, "scaled to about 1 MP: " + size[0] + "x" + size[1]);
    assertEquals("qwenedit/job-1_00001_.png", r.fileName());
    assertFalse(r.reused());
    assertEquals(req.promptId(), r.promptId());
    assertEquals("qwen-image-edit-lightning", r.workflow());
    assertNotNull(r.seed());
    assertTrue(r.timings().getLong("total_ms") >= r.timings().getLong("execution_ms"));
    long parts = r.timings().getLong("upload_ms") + r.timings().getLong("submit_ms") + r.timings().getLong("queue_wait_ms")
        + r.timings().getLong("execution_ms") + r.timings().getLong("fetch_ms");
    assertTrue(parts <= r.timings().getLong("total_ms") + 1, "the parts fit in the whole: " + r.timings());
    assertEquals(1, stats(e).getInteger("uploads"), "the input went up as one multipart upload ComfyUI reads");
    assertTrue(rec.events.get(0).startsWith("submitted:"), rec.events.toString());
    assertTrue(rec.events.contains("started"));
    assertEquals(4, rec.progress.size(), "the Lightning workflow's 4 sampler steps");
    assertEquals(4, rec.progress.get(3)[0]);
    assertEquals(4, rec.progress.get(3)[1]);

    JsonObject s = stats(e);
    assertEquals(1, s.getInteger("prompts_succeeded"));
    assertEquals(1, s.getJsonObject("clients").getJsonObject(c.clientId()).getInteger("accepted"));
    var registry = JobMetrics.of(vertx).registry();
    assertEquals(2, registry.find("qwenedit.comfy.request").tags("endpoint", "/prompt", "result", "ok").timer().count(), "GET and POST /prompt");
    assertEquals(1, registry.find("qwenedit.comfy.request").tags("endpoint", "/upload/image").timer().count());
    assertEquals(1, registry.find("qwenedit.comfy.request").tags("endpoint", "/ws").timer().count());
  }

  @Test
  void stepsAndSeedAndWorkflowComeFromTheRequest() {
    ComfyEmulator e = emulator(EmulatorOptions.fast());
    ComfyClient c = client(e, options());
    Recorder rec = new Recorder();
    DispatchResult r = Await.await(c.dispatch(request("job-2", "add a hat").withSteps(6).withSeed(42L).withWorkflow("qwen-image-edit"), rec));
    assertEquals(6, rec.progress.size());
    assertEquals(42L, r.seed());
    assertEquals("qwen-image-edit", r.workflow());
  }

  @Test
  void aFullyCachedRunStillReturnsTheResult() {
    ComfyEmulator e = emulator(EmulatorOptions.fast());
    ComfyClient c = client(e, options());
    DispatchRequest first = request("job-c", "make it snow").withSeed(7L);
    DispatchResult r1 = Await.await(c.dispatch(first, null));
    Recorder rec = new Recorder();
    // Same job, same seed, same input: ComfyUI runs nothing and returns the old file.
    DispatchResult r2 = Await.await(c.dispatch(first.withPromptId(UUID.randomUUID().toString()), rec));
    assertEquals(1, stats(e).getInteger("prompts_fully_cached"));
    assertTrue(rec.progress.isEmpty(), "no progress messages in a cached run");
    assertEquals(r1.fileName(), r2.fileName());
    assertArrayEquals(r1.image().getBytes(), r2.image().getBytes());
    assertFalse(r2.reused(), "it was submitted; ComfyUI answered from its cache");
  }

  @Test
  void anExecutionErrorNamesTheNodeAndTheExceptionAndIsRetryable() {
    ComfyEmulator e = emulator(EmulatorOptions.fast().withFaults(new JsonObject().put("next", new JsonArray().add(new JsonObject().put("fault", "error")))));
    ComfyClient c = client(e, options());
    ComfyException x = failure(c.dispatch(request("job-e", "x"), null));
    assertEquals("comfy_execution_error", x.code());
    assertTrue(x.retryable());
    assertTrue(x.error().message().contains("node 3 (KSampler)"), x.error().message());
    assertTrue(x.error().message().contains("torch.OutOfMemoryError"), x.error().message());
    // The next job runs normally.
    assertNotNull(Await.await(c.dispatch(request("job-e2", "x"), null)).image());
  }

  @Test
  void anInputThatIsNotAnImageFailsAtLoadImageAndIsNotRetryable() {
    ComfyEmulator e = emulator(EmulatorOptions.fast());
    ComfyClient c = client(e, options());
    DispatchRequest bad = DispatchRequest.of("job-b", UUID.randomUUID().toString(), Buffer.buffer("this is not a picture"), "job-b.png", "x");
    ComfyException x = failure(c.dispatch(bad, null));
    assertEquals("comfy_execution_error", x.code());
    assertFalse(x.retryable());
    assertTrue(x.error().message().contains("LoadImage"), x.error().message());
  }

  @Test
  void aSocketDroppedMidRunStillDeliversTheResultThroughReconciliation() {
    // The socket is closed at step 5 of 10 and reconnects are refused until long after the prompt finished: only the
    // history poll can see the end.
    ComfyEmulator e = emulator(EmulatorOptions.fast().withStepTime(Duration.ofMillis(40)).withFaults(new JsonObject().put("next",
        new JsonArray().add(new JsonObject().put("fault", "drop_socket").put("at_step", 5).put("refuse_reconnect_ms", 4000)))));
    ComfyClient c = client(e, options());
    Recorder rec = new Recorder();
    DispatchResult r = Await.await(c.dispatch(request("job-d", "sunset").withSteps(10), rec));
    assertTrue(EmulatorImages.matches(INPUT, r.image(), "sunset"));
    JsonObject s = stats(e);
    assertEquals(1, s.getInteger("websockets_dropped"));
    assertTrue(s.getInteger("websockets_refused") >= 1, "the client tried to reconnect: " + s.encode());
    assertTrue(s.getJsonObject("requests").getInteger("GET /history/{id}", 0) >= 1, s.encode());
    assertTrue(rec.progress.size() < 10, "later progress was lost with the socket");
  }

  @Test
  void connectionsThatGoSilentMidRunAreReplacedAndTheResultStillArrives() throws Exception {
    ComfyEmulator e = emulator(EmulatorOptions.fast().withStepTime(Duration.ofMillis(50)));
    try (TcpProxy proxy = new TcpProxy(e.port())) {
      ComfyClient c = client(URI.create("http://127.0.0.1:" + proxy.port()), options()
          .withPingInterval(Duration.ofMillis(200)).withRequestTimeout(Duration.ofMillis(700)).withStallTimeout(Duration.ofSeconds(8)));
      Recorder rec = new Recorder();
      Future<DispatchResult> f = c.dispatch(request("job-nat", "through a NAT").withSteps(40), rec);
      Await.until("a few steps", Duration.ofSeconds(5), () -> rec.progress.size() >= 3);
      // A NAT forgets the connections: no FIN, no RST, the bytes just stop (socket and pooled HTTP alike).
      proxy.freezeExisting();
      DispatchResult r = Await.await(f, Duration.ofSeconds(20));
      assertTrue(EmulatorImages.matches(INPUT, r.image(), "through a NAT"));
      assertTrue(Await.await(e.stats()).getInteger("websockets_opened") >= 2, "the silent socket was replaced");
    }
  }

  @Test
  void aHangFiresTheStallClockSendsATargetedInterruptAndIsRetryable() {
    ComfyEmulator e = emulator(EmulatorOptions.fast().withFaults(new JsonObject().put("next", new JsonArray().add(new JsonObject().put("fault", "hang")))));
    ComfyClient c = client(e, options().withStallTimeout(Duration.ofMillis(800)));
    long t0 = System.currentTimeMillis();
    ComfyException x = failure(c.dispatch(request("job-h", "x").withSteps(8), null));
    assertEquals("comfy_stalled", x.code());
    assertTrue(x.retryable());
    assertTrue(x.error().message().contains("confirmed it stopped"), x.error().message());
    assertTrue(System.currentTimeMillis() - t0 < 6000);
    JsonObject s = stats(e);
    assertTrue(s.getInteger("interrupts_targeted") >= 1, s.encode());
    assertEquals(1, s.getInteger("prompts_interrupted"));
    assertEquals(0, s.getInteger("queue_remaining"));
    assertEquals(1.0, JobMetrics.of(vertx).registry().find("qwenedit.comfy.interrupts").tag("reason", "stall").counter().count());
    // ComfyUI is free again: the retry works.
    assertNotNull(Await.await(c.dispatch(request("job-h2", "x"), null)).image());
  }

  @Test
  void aHangThatIgnoresTheInterruptStillEndsWithARetryableError() {
    ComfyEmulator e = emulator(EmulatorOptions.fast().withFaults(new JsonObject().put("next",
        new JsonArray().add(new JsonObject().put("fault", "hang").put("interruptible", false)))));
    ComfyClient c = client(e, options().withStallTimeout(Duration.ofMillis(600)).withInterruptConfirmTimeout(Duration.ofMillis(800)));
    ComfyException x = failure(c.dispatch(request("job-h3", "x"), null));
    assertEquals("comfy_stalled", x.code());
    assertTrue(x.retryable());
    assertTrue(x.error().message().contains("did not confirm it stopped"), x.error().message());
  }

  @Test
  void aWedgedServerIsReportedByTheProbe() {
    ComfyEmulator e = emulator(EmulatorOptions.fast().withFaults(new JsonObject().put("next", new JsonArray().add(new JsonObject().put("fault", "wedge")))));
    ComfyClient c = client(e, options().withStallTimeout(Duration.ofMillis(600)).withInterruptConfirmTimeout(Duration.ofMillis(600))
        .withWedgeTimeout(Duration.ofMillis(1500)));
    ComfyHealth before = Await.await(c.probe());
    assertEquals(ComfyHealth.State.HEALTHY, before.state(), before.detail());
    assertEquals("0.38.1", before.version());
    assertNotNull(before.vramTotal());

    ComfyException x = failure(c.dispatch(request("job-w", "x"), null));
    assertEquals("comfy_stalled", x.code());
    Await.until("the probe says WEDGED", Duration.ofSeconds(8), () -> Await.await(c.probe()).state() == ComfyHealth.State.WEDGED);
    ComfyHealth h = Await.await(c.probe());
    assertTrue(h.detail().contains("wedged"), h.detail());
    assertEquals(1, h.queueRemaining());
    assertFalse(stats(e).getBoolean("worker_alive"));

    Await.await(e.close());
    emulators.remove(e);
    ComfyHealth gone = Await.await(c.probe(), Duration.ofSeconds(10));
    assertEquals(ComfyHealth.State.UNREACHABLE, gone.state());
    assertTrue(gone.detail().contains("unreachable"), gone.detail());
  }

  @Test
  void aMissingModelIsAPermanentErrorNamingTheNodeAndTheFile() {
    ComfyEmulator e = emulator(EmulatorOptions.fast().withoutModel("Qwen-Image-Edit-Lightning-4steps-V1.0-bf16.safetensors"));
    ComfyClient c = client(e, options());
    ComfyException x = failure(c.dispatch(request("job-m", "x"), null));
    assertEquals("invalid_workflow", x.code());
    assertFalse(x.retryable());
    String m = x.error().message();
    assertTrue(m.contains("node 89 (LoraLoaderModelOnly"), m);
    assertTrue(m.contains("'Qwen-Image-Edit-Lightning-4steps-V1.0-bf16.safetensors'"), m);
    assertTrue(m.contains("not installed"), m);
    assertEquals(0, stats(e).getInteger("prompts_accepted"));
  }

  @Test
  void anUnknownWorkflowIsAPermanentErrorListingTheKnownOnes() {
    ComfyEmulator e = emulator(EmulatorOptions.fast());
    ComfyClient c = client(e, options());
    ComfyException x = failure(c.dispatch(request("job-u", "x").withWorkflow("flux-kontext"), null));
    assertEquals("invalid_workflow", x.code());
    assertFalse(x.retryable());
    assertTrue(x.error().message().contains("flux-kontext") && x.error().message().contains("qwen-image-edit-lightning"), x.error().message());
  }

  @Test
  void waitingBehindAnotherClientsPromptIsNotAStall() {
    ComfyEmulator e = emulator(EmulatorOptions.fast().withStepTime(Duration.ofMillis(50)));
    ComfyClient other = client(e, options().withClientId("other-" + UUID.randomUUID()));
    Recorder otherRec = new Recorder();
    Future<DispatchResult> long1 = other.dispatch(request("job-o", "a long one").withSteps(30), otherRec);
    Await.await(otherRec.started.future());
    ComfyClient mine = client(e, options().withStallTimeout(Duration.ofMillis(400)));
    Recorder rec = new Recorder();
    DispatchResult r = Await.await(mine.dispatch(request("job-q", "mine"), rec));
    assertNotNull(Await.await(long1).image());
    assertTrue(r.timings().getLong("queue_wait_ms") > 600, "it waited behind the other prompt: " + r.timings());
    assertTrue(rec.events.get(0).equals("submitted:2"), "two in ComfyUI's queue when ours was submitted: " + rec.events);
    assertEquals(2, stats(e).getInteger("max_queue_depth"));
  }

  @Test
  void aPromptStuckInTheQueueTimesOutAndIsTakenOut() {
    ComfyEmulator e = emulator(EmulatorOptions.fast().withStepTime(Duration.ofMillis(50)));
    ComfyClient other = client(e, options().withClientId("other-" + UUID.randomUUID()));
    Recorder otherRec = new Recorder();
    Future<DispatchResult> long1 = other.dispatch(request("job-o2", "long").withSteps(24), otherRec);
    Await.await(otherRec.started.future());
    ComfyClient mine = client(e, options().withQueueTimeout(Duration.ofMillis(500)));
    ComfyException x = failure(mine.dispatch(request("job-qt", "mine"), null));
    assertEquals("comfy_queue_timeout", x.code());
    assertTrue(x.retryable());
    JsonObject s = stats(e);
    assertEquals(1, s.getInteger("prompts_deleted"));
    assertNull(s.getJsonObject("clients").getJsonObject(mine.clientId()).getValue("started"), "ours never ran");
    Await.await(long1, Duration.ofSeconds(10));
  }

  @Test
  void aStaleFileWithOurNameIsReplacedByOurPicture() {
    ComfyEmulator e = emulator(EmulatorOptions.fast());
    // A different picture already has our file name (left by something else, or an older copy): uploads overwrite, so
    // the file is ours again, written now (its age is this attempt's, for the clean-up of ComfyUI's directories).
    WebClient web = WebClient.create(vertx);
    MultipartForm form = MultipartForm.create().attribute("subfolder", "qwenedit")
        .binaryFileUpload("image", "job-n.png", Images.png(96, 64, Color.RED), "image/png");
    JsonObject up = Await.await(web.post(e.port(), "127.0.0.1", "/upload/image").sendMultipartForm(form)).bodyAsJsonObject();
    assertEquals("job-n.png", up.getString("name"));
    ComfyClient c = client(e, options());
    DispatchResult r = Await.await(c.dispatch(request("job-n", "x"), null));
    assertTrue(EmulatorImages.matches(INPUT, r.image()), "our picture was edited, not the other one with our name");
    assertEquals(0, stats(e).getInteger("uploads_renamed"), "replaced, not stored beside it under another name");
    web.close();
  }

  @Test
  void aRedispatchAfterRestartPicksUpTheFinishedPromptWithoutSubmittingAgain() {
    ComfyEmulator e = emulator(EmulatorOptions.fast());
    ComfyClientOptions o = options();
    ComfyClient first = client(e, o);
    DispatchRequest req = request("job-r", "paint it blue");
    DispatchResult r1 = Await.await(first.dispatch(req, null));
    Await.await(first.close());

    ComfyClient second = client(e, o);
    DispatchResult r2 = Await.await(second.dispatch(req, null));
    assertTrue(r2.reused());
    assertArrayEquals(r1.image().getBytes(), r2.image().getBytes());
    JsonObject s = stats(e);
    assertEquals(1, s.getInteger("prompts_accepted"), "submitted once");
    assertEquals(1, s.getInteger("uploads"), "uploaded once");
  }

  @Test
  void aRedispatchAfterRestartFollowsTheRunningPromptWithoutSubmittingAgain() {
    ComfyEmulator e = emulator(EmulatorOptions.fast().withStepTime(Duration.ofMillis(50)));
    ComfyClientOptions o = options();
    ComfyClient first = client(e, o);
    Recorder rec1 = new Recorder();
    DispatchRequest req = request("job-f", "make it night").withSteps(20);
    Future<DispatchResult> abandoned = first.dispatch(req, rec1);
    Await.await(rec1.started.future());
    Await.await(first.close());
    assertEquals("comfy_client_closed", failure(abandoned).code());

    // The worker restarted: a new client (same client id, as the worker keeps it per GPU) re-dispatches the job.
    ComfyClient second = client(e, o);
    Recorder rec2 = new Recorder();
    DispatchResult r = Await.await(second.dispatch(req, rec2));
    assertTrue(r.reused());
    assertTrue(EmulatorImages.matches(INPUT, r.image(), "make it night"));
    assertFalse(rec2.progress.isEmpty(), "it got the rest of the run's progress on the reconnected client id");
    JsonObject s = stats(e);
    assertEquals(1, s.getInteger("prompts_accepted"), "submitted once");
    assertEquals(1, s.getInteger("prompts_started"));
  }

  @Test
  void aRedispatchOfAFailedAttemptSubmitsAgainUnderTheSameId() {
    ComfyEmulator e = emulator(EmulatorOptions.fast().withFaults(new JsonObject().put("next", new JsonArray().add(new JsonObject().put("fault", "error")))));
    ComfyClient c = client(e, options());
    DispatchRequest req = request("job-a2", "second time lucky");
    assertEquals("comfy_execution_error", failure(c.dispatch(req, null)).code());
    DispatchResult r = Await.await(c.dispatch(req, null));
    assertFalse(r.reused(), "the failed attempt's history was not mistaken for a result");
    assertTrue(EmulatorImages.matches(INPUT, r.image(), "second time lucky"));
    assertEquals(2, stats(e).getInteger("prompts_accepted"));
  }

  @Test
  void anInterruptSomeoneElseSentIsARetryableError() {
    ComfyEmulator e = emulator(EmulatorOptions.fast().withStepTime(Duration.ofMillis(50)));
    ComfyClient c = client(e, options());
    Recorder rec = new Recorder();
    Future<DispatchResult> f = c.dispatch(request("job-i", "x").withSteps(40), rec);
    Await.await(rec.started.future());
    WebClient web = WebClient.create(vertx);
    Await.await(web.post(e.port(), "127.0.0.1", "/interrupt").send());
    web.close();
    ComfyException x = failure(f);
    assertEquals("comfy_interrupted", x.code());
    assertTrue(x.retryable());
  }

  @Test
  void manyJobsInARowReuseConnections() {
    ComfyEmulator e = emulator(EmulatorOptions.fast().withStepTime(Duration.ofMillis(2)));
    ComfyClient c = client(e, options().withPoolSize(2));
    int jobs = 15;
    for (int i = 0; i < jobs; i++) {
      DispatchResult r = Await.await(c.dispatch(request("job-" + i, "edit " + i), null));
      assertTrue(EmulatorImages.matches(INPUT, r.image(), "edit " + i));
    }
    JsonObject s = stats(e);
    int requests = s.getJsonObject("requests").stream().mapToInt(en -> ((Number) en.getValue()).intValue()).sum();
    assertTrue(requests >= jobs * 5, "several HTTP calls per job: " + s.getJsonObject("requests"));
    // One WebSocket plus at most the pool's two HTTP connections, for ~100 requests.
    assertTrue(s.getInteger("connections_opened") <= 3, "connections: " + s.getInteger("connections_opened") + " for " + requests + " requests");
    assertEquals(1, s.getInteger("websockets_opened"));
  }

  @Test
  void theTotalTimeLimitInterruptsALongPrompt() {
    ComfyEmulator e = emulator(EmulatorOptions.fast().withStepTime(Duration.ofMillis(50)));
    ComfyClient c = client(e, options().withTimeout(Duration.ofMillis(800)));
    ComfyException x = failure(c.dispatch(request("job-t", "x").withSteps(60), null));
    assertEquals("comfy_timeout", x.code());
    assertTrue(x.retryable());
    JsonObject s = stats(e);
    assertTrue(s.getInteger("interrupts_targeted") >= 1);
    assertEquals(1, s.getInteger("prompts_interrupted"));
  }

  @Test
  void cancellingARunningPromptInterruptsItAndIsNotRetryable() {
    ComfyEmulator e = emulator(EmulatorOptions.fast().withStepTime(Duration.ofMillis(50)));
    ComfyClient c = client(e, options());
    Promise<String> cancel = Promise.promise();
    Recorder rec = new Recorder();
    Future<DispatchResult> f = c.dispatch(request("job-x", "x").withSteps(60).withCancel(cancel.future()), rec);
    Await.await(rec.started.future());
    cancel.complete("the user pressed cancel");
    ComfyException x = failure(f);
    assertEquals("cancelled", x.code());
    assertFalse(x.retryable());
    assertTrue(x.error().message().contains("the user pressed cancel"));
    JsonObject s = stats(e);
    assertEquals(1, s.getInteger("prompts_interrupted"));
    assertEquals(0, s.getInteger("queue_remaining"));
  }

  @Test
  void cancellingAPendingPromptDeletesItFromTheQueue() {
    ComfyEmulator e = emulator(EmulatorOptions.fast().withStepTime(Duration.ofMillis(50)));
    ComfyClient other = client(e, options().withClientId("other-" + UUID.randomUUID()));
    Recorder otherRec = new Recorder();
    Future<DispatchResult> long1 = other.dispatch(request("job-o3", "long").withSteps(30), otherRec);
    Await.await(otherRec.started.future());
    ComfyClient c = client(e, options());
    Promise<String> cancel = Promise.promise();
    AtomicBoolean submitted = new AtomicBoolean();
    Future<DispatchResult> f = c.dispatch(request("job-p", "x").withCancel(cancel.future()), new DispatchListener() {
      @Override
      public void onSubmitted(String promptId, int queueRemaining) {
        submitted.set(true);
      }
    });
    Await.until("submitted", Duration.ofSeconds(5), submitted::get);
    cancel.complete("changed my mind");
    ComfyException x = failure(f);
    assertEquals("cancelled", x.code());
    JsonObject s = stats(e);
    assertEquals(1, s.getInteger("prompts_deleted"));
    assertNull(s.getJsonObject("clients").getJsonObject(c.clientId()).getValue("started"), "it never ran");
    assertNotNull(Await.await(long1, Duration.ofSeconds(10)).image(), "the other client's prompt was not touched");
  }

  @Test
  void cancellingBeforeSubmittingSendsNothing() {
    ComfyEmulator e = emulator(EmulatorOptions.fast());
    ComfyClient c = client(e, options());
    ComfyException x = failure(c.dispatch(request("job-z", "x").withCancel(Future.succeededFuture("too late")), null));
    assertEquals("cancelled", x.code());
    assertEquals(0, stats(e).getInteger("prompts_accepted"));
  }

  @Test
  void http500AndGarbageAndNoServerAreClearRetryableErrors() {
    ComfyEmulator e = emulator(EmulatorOptions.fast().withFaults(new JsonObject().put("http", new JsonArray()
        .add(new JsonObject().put("fault", "http_500").put("endpoint", "/prompt").put("method", "POST").put("times", 1))
        .add(new JsonObject().put("fault", "garbage").put("endpoint", "/upload/image").put("times", 1)))));
    ComfyClient c = client(e, options());
    ComfyException garbage = failure(c.dispatch(request("job-g", "x"), null));
    assertEquals("comfy_bad_response", garbage.code());
    assertTrue(garbage.retryable());
    assertTrue(garbage.error().message().contains("not a JSON object"), garbage.error().message());
    ComfyException five = failure(c.dispatch(request("job-5", "x"), null));
    assertEquals("comfy_http_5xx", five.code());
    assertTrue(five.retryable());
    assertTrue(five.error().message().contains("500"), five.error().message());
    assertNotNull(Await.await(c.dispatch(request("job-ok", "x"), null)).image(), "and then it works");

    ComfyClient nowhere = client(URI.create("http://127.0.0.1:1"), options());
    long t0 = System.currentTimeMillis();
    ComfyException down = failure(nowhere.dispatch(request("job-down", "x"), null));
    assertEquals("comfy_unreachable", down.code());
    assertTrue(down.retryable());
    assertTrue(System.currentTimeMillis() - t0 < 8000);
  }

  @Test
  void aSlowServerHitsThePerRequestLimit() {
    ComfyEmulator e = emulator(EmulatorOptions.fast().withFaults(new JsonObject().put("http", new JsonArray()
        .add(new JsonObject().put("fault", "slow").put("endpoint", "/upload/image").put("delay_ms", 3000)))));
    ComfyClient c = client(e, options().withRequestTimeout(Duration.ofMillis(300)));
    long t0 = System.currentTimeMillis();
    ComfyException x = failure(c.dispatch(request("job-s", "x"), null));
    assertEquals("comfy_unreachable", x.code());
    assertTrue(x.error().message().contains("did not answer"), x.error().message());
    assertTrue(System.currentTimeMillis() - t0 < 2500);
  }

  @Test
  void lookupTellsPendingRunningFinishedAndUnknownApart() {
    ComfyEmulator e = emulator(EmulatorOptions.fast().withStepTime(Duration.ofMillis(50)));
    ComfyClient c = client(e, options());
    Recorder rec = new Recorder();
    DispatchRequest a = request("job-la", "a").withSteps(20);
    Future<DispatchResult> fa = c.dispatch(a, rec);
    Await.await(rec.started.future());
    ComfyClient other = client(e, options().withClientId("other-" + UUID.randomUUID()));
    DispatchRequest b = request("job-lb", "b");
    AtomicBoolean submitted = new AtomicBoolean();
    Future<DispatchResult> fb = other.dispatch(b, new DispatchListener() {
      @Override
      public void onSubmitted(String promptId, int queueRemaining) {
        submitted.set(true);
      }
    });
    Await.until("b submitted", Duration.ofSeconds(5), submitted::get);
    assertEquals(PromptLookup.State.RUNNING, Await.await(c.lookup(a.promptId())).state());
    PromptLookup pb = Await.await(c.lookup(b.promptId()));
    assertEquals(PromptLookup.State.PENDING, pb.state());
    assertEquals(1, pb.ahead());
    assertEquals(PromptLookup.State.UNKNOWN, Await.await(c.lookup(UUID.randomUUID().toString())).state());
    Await.await(fa);
    Await.await(fb);
    PromptLookup done = Await.await(c.lookup(a.promptId()));
    assertEquals(PromptLookup.State.FINISHED, done.state());
    assertTrue(done.succeeded());
  }
}
