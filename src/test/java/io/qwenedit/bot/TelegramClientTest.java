package io.qwenedit.bot;

import static io.qwenedit.testing.Await.await;
import static io.qwenedit.testing.Await.failure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.qwenedit.config.BotConfig;
import io.qwenedit.metrics.JobMetrics;
import io.qwenedit.telegram.StubChat;
import io.qwenedit.telegram.TelegramStub;
import io.qwenedit.testing.Images;
import io.qwenedit.testing.TestConfigs;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The Bot API client against the stub: request formats, answers, and every kind of failure. */
class TelegramClientTest {
  private Vertx vertx;
  private TelegramStub telegram;
  private TelegramClient client;
  private SimpleMeterRegistry meters;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    telegram = TelegramStub.start();
    meters = new SimpleMeterRegistry();
    client = new TelegramClient(vertx, config(telegram.apiUrl().toString(), TelegramStub.TOKEN), JobMetrics.of(meters), 4, 1500);
  }

  @AfterEach
  void tearDown() {
    client.close();
    telegram.close();
    await(vertx.close());
  }

  private static BotConfig config(String url, String token) {
    return TestConfigs.config("redis://127.0.0.1:1/0", "TELEGRAM_API_URL", url, "TELEGRAM_BOT_TOKEN", token).bot();
  }

  @Test
  void callsAnswerWithTheResult() {
    JsonObject me = (JsonObject) await(client.call("getMe", new JsonObject()));
    assertEquals(TelegramStub.BOT_ID, me.getLong("id"));
    telegram.user(11, "Ann", "en");
    JsonObject sent = (JsonObject) await(client.call("sendMessage", new JsonObject().put("chat_id", 11).put("text", "hi")
        .put("reply_markup", Outbox.buttons("OK", "ok:1"))));
    assertTrue(sent.getLong("message_id") > 0);
    StubChat.Message m = telegram.botMessages(11L).get(0);
    assertEquals("hi", m.text());
    assertEquals("ok:1", m.buttonData("OK"));
  }

  @Test
  void uploadsGoAsMultipartPartsNamedPhotoAndDocument() {
    telegram.user(12, "Ben", "en");
    Buffer png = Images.png(50, 40);
    await(client.upload("sendPhoto", new JsonObject().put("chat_id", 12).put("caption", "c")
        .put("reply_markup", Outbox.buttons("Again", "a:x")), "photo", "r.png", "image/png", png));
    await(client.upload("sendDocument", new JsonObject().put("chat_id", 12), "document", "r.png", "image/png", png));
    StubChat.Message photo = telegram.botMessages(12L).get(0);
    StubChat.Message doc = telegram.botMessages(12L).get(1);
    assertEquals("photo", photo.kind());
    assertEquals(png, photo.file());
    assertEquals("a:x", photo.buttonData("Again"), "objects travel JSON-encoded in form fields");
    assertEquals("document", doc.kind());
    assertEquals("r.png", doc.fileName());
    assertEquals("image/png", doc.mimeType());
  }

  @Test
  void filesAreFetchedThroughGetFileAndTheFilePath() throws Exception {
    JsonObject ann = telegram.user(13, "Ann", "en");
    Buffer jpeg = Images.jpeg(64, 64);
    telegram.sendDocument(ann, jpeg, jpeg.length(), "a.jpg", "image/jpeg", null);
    JsonArray updates = (JsonArray) await(client.call("getUpdates", new JsonObject()));
    String fileId = updates.getJsonObject(0).getJsonObject("message").getJsonObject("document").getString("file_id");
    JsonObject file = (JsonObject) await(client.call("getFile", new JsonObject().put("file_id", fileId)));
    assertEquals(jpeg, await(client.download(file.getString("file_path"))));
    // A local Bot API server (--local) answers with an absolute path on a shared disk.
    Path local = Files.createTempFile("tg-local", ".jpg");
    Files.write(local, jpeg.getBytes());
    assertEquals(jpeg, await(client.download(local.toString())));
    Files.delete(local);
  }

  @Test
  void aLocalFileThatNeverFinishesReadingFailsWithinTheReadLimit() throws Exception {
    // a FIFO nobody writes to: reading it blocks for ever, as a file on a network disk whose server is gone
    Path dir = Files.createTempDirectory("tg-local");
    Path fifo = dir.resolve("photo.jpg");
    assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
    try {
      long t0 = System.nanoTime();
      Throwable err = failure(client.download(fifo.toString()));
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(err instanceof TelegramApiException, err.toString());
      assertTrue(err.getMessage().contains("could not be read within 1500 ms"), err.getMessage());
      assertTrue(ms < 10_000, "gave up after " + ms + " ms");
    } finally {
      // release the reader still blocked on a worker thread: a writer that opens and closes the FIFO ends its read
      // (bounded: with no reader left, opening it for writing would wait for one)
      new ProcessBuilder("timeout", "5", "sh", "-c", ": > \"$0\"", fifo.toString()).start().waitFor();
      Files.deleteIfExists(fifo);
      Files.deleteIfExists(dir);
    }
  }

  @Test
  void errorsCarryTelegramsCodeAndParameters() {
    telegram.user(14, "Cy", "en");
    telegram.floodNext("sendMessage", null, 1, 7);
    TelegramApiException flood = assertInstanceOf(TelegramApiException.class,
        failure(client.call("sendMessage", new JsonObject().put("chat_id", 14).put("text", "x"))));
    assertEquals(429, flood.code());
    assertEquals(7, flood.retryAfter());
    assertTrue(flood.floodWait());

    telegram.failNext("sendMessage", null, 1, 403, "Forbidden: bot was blocked by the user");
    assertTrue(((TelegramApiException) failure(client.call("sendMessage", new JsonObject().put("chat_id", 14).put("text", "x")))).forbidden());

    long group = -77;
    telegram.group(group);
    long superId = telegram.migrateGroup(group);
    TelegramApiException moved = (TelegramApiException) failure(client.call("sendMessage", new JsonObject().put("chat_id", group).put("text", "x")));
    assertEquals(superId, moved.migrateToChatId());

    JsonObject sent = (JsonObject) await(client.call("sendMessage", new JsonObject().put("chat_id", 14).put("text", "same")));
    TelegramApiException same = (TelegramApiException) failure(client.call("editMessageText", new JsonObject().put("chat_id", 14)
        .put("message_id", sent.getLong("message_id")).put("text", "same")));
    assertTrue(same.notModified());

    telegram.failNext("getMe", null, 1, 502, "Bad Gateway");
    assertTrue(((TelegramApiException) failure(client.call("getMe", new JsonObject()))).transientFailure());
    assertEquals(404, ((TelegramApiException) failure(client.call("noSuchMethod", new JsonObject()))).code());
    assertTrue(meters.get("qwenedit.telegram.errors").tag("code", "429").counter().count() >= 1);
  }

  @Test
  void aWrongTokenIs401AndNeverAppearsInErrors() {
    String wrong = "7000000001:AAWrongTokenWrongTokenWrongToken";
    TelegramClient bad = new TelegramClient(vertx, config(telegram.apiUrl().toString(), wrong), JobMetrics.of(meters), 1, 1500);
    TelegramApiException e = (TelegramApiException) failure(bad.call("getMe", new JsonObject()));
    assertTrue(e.unauthorized());
    assertFalse(e.getMessage().contains("AAWrong"));
    bad.close();
  }

  @Test
  void unreachableAndSilentServersFailWithinTheReadLimit() {
    telegram.hangNext("getMe", 1);
    long t0 = System.nanoTime();
    TelegramApiException hung = (TelegramApiException) failure(client.call("getMe", new JsonObject()));
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertEquals(TelegramApiException.NETWORK, hung.code());
    assertEquals("timeout", hung.metricCode());
    assertTrue(ms >= 1400 && ms < 8000, "gave up after " + ms + " ms (read limit 1.5 s)");
    telegram.down();
    TelegramApiException gone = (TelegramApiException) failure(client.call("getMe", new JsonObject()));
    assertEquals(TelegramApiException.NETWORK, gone.code());
    assertFalse(gone.getMessage().contains(TelegramStub.TOKEN), gone.getMessage());
    telegram.up();
    assertInstanceOf(JsonObject.class, await(client.call("getMe", new JsonObject())), "works again by itself");
  }

  @Test
  void theStubAcceptsQueryAndFormParametersToo() throws Exception {
    telegram.user(15, "Di", "en");
    java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
    String base = telegram.apiUrl() + "/bot" + TelegramStub.TOKEN + "/";
    var q = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "sendMessage?chat_id=15&text=query")).GET().build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
    assertEquals(200, q.statusCode());
    var f = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "SENDMESSAGE"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .POST(java.net.http.HttpRequest.BodyPublishers.ofString("chat_id=15&text=form")).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
    assertEquals(200, f.statusCode());
    assertEquals(java.util.List.of("query", "form"), telegram.botMessages(15L).stream().map(StubChat.Message::text).toList());
    var bad = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "sendMessage?chat_id=15")).GET().build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
    assertEquals(400, bad.statusCode());
    assertEquals("Bad Request: message text is empty", new JsonObject(bad.body()).getString("description"));
  }
}
