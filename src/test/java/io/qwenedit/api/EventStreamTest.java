package io.qwenedit.api;

import static io.qwenedit.testing.Await.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qwenedit.queue.QueueResults.Claimed;
import io.qwenedit.testing.Await;
import io.qwenedit.testing.Images;
import io.qwenedit.testing.RedisServerExtension;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.redis.client.Command;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** GET /v1/jobs/{id}/events: a job followed from the line to its outcome, through the real queue. */
class EventStreamTest {
  @RegisterExtension
  static final RedisServerExtension REDIS = new RedisServerExtension();
  private static final Duration WAIT = Duration.ofSeconds(10);

  private ApiHarness h;
  private SseClient sse;

  @AfterEach
  void stop() {
    if (sse != null) {
      sse.close();
    }
    if (h != null) {
      h.close();
    }
  }

  private String submit(String prompt) {
    HttpResponse<Buffer> r = await(h.http.post("/v1/jobs").sendMultipartForm(HttpApiTest.form(prompt, Images.png(32, 24))));
    assertEquals(202, r.statusCode(), r.bodyAsString());
    return r.bodyAsJsonObject().getString("id");
  }

  private SseClient follow(String id) {
    sse = SseClient.open(h.clientVertx, h.port, "/v1/jobs/" + id + "/events", null);
    assertEquals(200, sse.status());
    assertTrue(sse.contentType().startsWith("text/event-stream"), sse.contentType());
    return sse;
  }

  @Test
  void streamShowsPositionThenProgressThenTheOutcomeAndEnds() {
    h = ApiHarness.start(REDIS.url());
    String first = submit("first");
    String second = submit("second");
    follow(second);
    sse.waitFor("position", d -> d.getInteger("position") == 2, WAIT);

    var worker = h.worker();
    Claimed a = worker.claim();
    assertEquals(first, a.id());
    sse.waitFor("position", d -> d.getInteger("position") == 1, WAIT);
    worker.succeed(a);

    Claimed b = worker.claim();
    sse.waitFor("progress", d -> "running".equals(d.getString("state")) && d.getValue("progress") == null, WAIT);
    worker.progress(b, 5, 20);
    sse.waitFor("progress", d -> d.getJsonObject("progress") != null && d.getJsonObject("progress").getInteger("value") == 5, WAIT);
    worker.progress(b, 20, 20);
    sse.waitFor("progress", d -> d.getJsonObject("progress") != null && d.getJsonObject("progress").getInteger("value") == 20, WAIT);
    worker.succeed(b);

    JsonObject outcome = sse.waitFor("outcome", d -> true, WAIT).data();
    assertEquals("succeeded", outcome.getString("state"));
    assertEquals("/v1/jobs/" + second + "/result", outcome.getJsonObject("result").getString("url"));
    await(sse.ended(), WAIT);

    List<String> names = sse.events().stream().map(SseClient.Event::name).toList();
    assertEquals("outcome", names.get(names.size() - 1), "the outcome is the last event: " + names);
    assertEquals(1, names.stream().filter("outcome"::equals).count(), names.toString());
    int lastPosition = names.lastIndexOf("position");
    int firstProgress = names.indexOf("progress");
    assertTrue(lastPosition < firstProgress, "positions come before progress: " + names);
  }

  @Test
  void finishedJobGetsItsOutcomeAtOnce() {
    h = ApiHarness.start(REDIS.url());
    String id = submit("quick");
    var worker = h.worker();
    worker.failPermanently(worker.claim(), "invalid_workflow", "The workflow has no LoadImage node");
    follow(id);
    JsonObject outcome = sse.waitFor("outcome", d -> true, WAIT).data();
    assertEquals("failed", outcome.getString("state"));
    assertEquals("invalid_workflow", outcome.getJsonObject("error").getString("code"));
    await(sse.ended(), WAIT);
  }

  @Test
  void cancelWhileRunningEndsTheStreamWithCancelled() {
    h = ApiHarness.start(REDIS.url());
    String id = submit("long one");
    follow(id);
    var worker = h.worker();
    Claimed c = worker.claim();
    sse.waitFor("progress", d -> true, WAIT);
    assertEquals(202, await(h.http.delete("/v1/jobs/" + id).send()).statusCode());
    assertTrue(worker.progress(c, 2, 20).cancelRequested());
    worker.stopCancelled(c);
    assertEquals("cancelled", sse.waitFor("outcome", d -> true, WAIT).data().getString("state"));
    await(sse.ended(), WAIT);
  }

  @Test
  void anEventLostWhileTheSubscriptionWasDownIsRecoveredByReReadingTheJob() {
    h = ApiHarness.start(REDIS.url());
    String id = submit("x");
    follow(id);
    sse.waitFor("position", d -> true, WAIT);
    var worker = h.worker();
    Claimed c = worker.claim();
    sse.waitFor("progress", d -> true, WAIT);
    String channel = h.queue.keys().eventsChannel();
    // Drop the API's subscription and finish the job before it can come back: the outcome is published to nobody.
    REDIS.command("CLIENT KILL TYPE pubsub");
    assertEquals(":0", numsub(channel), "no subscriber at the moment the job ends");
    worker.succeed(c);
    assertEquals("succeeded", sse.waitFor("outcome", d -> true, WAIT).data().getString("state"));
    await(sse.ended(), WAIT);
  }

  private String numsub(String channel) {
    // PUBSUB NUMSUB answers *2, $len, channel, :count; the count is the fourth line.
    try (var s = new java.net.Socket("127.0.0.1", REDIS.port())) {
      s.setSoTimeout(2000);
      s.getOutputStream().write(("PUBSUB NUMSUB " + channel + "\r\n").getBytes());
      var in = new java.io.BufferedReader(new java.io.InputStreamReader(s.getInputStream()));
      in.readLine();
      in.readLine();
      in.readLine();
      return in.readLine();
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void aClientThatLeavesStopsTheFollowAndKeepAlivesFlowMeanwhile() {
    h = ApiHarness.start(REDIS.url(), "API_EVENTS_KEEPALIVE", "100ms");
    String id = submit("x");
    follow(id);
    sse.waitFor("position", d -> true, WAIT);
    Await.until("a keep-alive comment", WAIT, () -> sse.raw().contains(": keep-alive"));
    Await.until("the stream is counted", WAIT, () -> openStreams() == 1.0);
    sse.close();
    sse = null;
    Await.until("the stream is released", WAIT, () -> openStreams() == 0.0);
  }

  @Test
  void aClientThatLeavesWhileItsJobIsLookedUpLeavesNoStreamBehind() throws Exception {
    h = ApiHarness.start(REDIS.url());
    String id = submit("x");
    // Redis holds every command for a moment: the API's lookup of the job waits while the client comes and goes
    await(h.redis.send(Command.CLIENT, "PAUSE", "1500", "ALL"));
    long pausedUntil = System.currentTimeMillis() + 1500;
    try (Socket s = new Socket("127.0.0.1", h.port)) {
      s.getOutputStream().write(("GET /v1/jobs/" + id + "/events HTTP/1.1\r\nHost: localhost\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      Thread.sleep(300); // the request is in the API's hands
    }
    Thread.sleep(Math.max(0, pausedUntil - System.currentTimeMillis()) + 1_000); // the lookup answered, the stream began
    Await.until("no stream is left open for a client that left", WAIT, () -> openStreams() == 0.0);
  }

  @Test
  void streamOfAnUnknownJobIs404Json() {
    h = ApiHarness.start(REDIS.url());
    HttpApiTest.error(await(h.http.get("/v1/jobs/nosuchjob/events").send()), 404, "job_not_found");
  }

  @Test
  void streamEndsWithTimeoutAfterItsLongestLife() {
    h = ApiHarness.start(REDIS.url(), "API_EVENTS_MAX_DURATION", "1s");
    String id = submit("x");
    follow(id);
    JsonObject timeout = sse.waitFor("timeout", d -> true, WAIT).data();
    assertTrue(timeout.getString("message").contains("queued"), timeout.encode());
    await(sse.ended(), WAIT);
    assertNull(sse.events().stream().filter(e -> e.name().equals("outcome")).findFirst().orElse(null));
  }

  private double openStreams() {
    String text = await(h.http.get("/metrics").send()).bodyAsString();
    return Prometheus.value(text, "qwenedit_api_event_streams");
  }
}
