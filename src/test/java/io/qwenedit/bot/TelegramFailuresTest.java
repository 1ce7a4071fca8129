package io.qwenedit.bot;

import static io.qwenedit.testing.Await.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.qwenedit.telegram.StubChat;
import io.qwenedit.telegram.TelegramStub;
import io.qwenedit.testing.Await;
import io.qwenedit.testing.Images;
import io.qwenedit.testing.RedisServerExtension;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/** Telegram answering 429, 409, 403, 5xx, hanging, or gone: the bot obeys, waits, and carries on by itself. */
class TelegramFailuresTest extends BotEndToEnd {
  @RegisterExtension
  static final RedisServerExtension REDIS = new RedisServerExtension();
  private static final Duration WAIT = Duration.ofSeconds(20);

  @Override
  protected String redisUrl() {
    return REDIS.url();
  }

  @Test
  void a429StormIsObeyedToTheSecondAndOtherChatsAreNotHeldUp() {
    startAll();
    JsonObject ann = telegram.user(3001, "Ann", "en");
    JsonObject ben = telegram.user(3002, "Ben", "en");
    telegram.floodNext("sendMessage", 3001L, 3, 1);
    telegram.sendText(ann, "/help");
    telegram.sendText(ben, "/help");
    telegram.awaitBotMessage(3002, "Ben's answer, not held up by Ann's flood wait", Duration.ofSeconds(5),
        m -> m.visible().startsWith("I edit photos"));
    telegram.awaitBotMessage(3001, "Ann's answer after the storm", WAIT, m -> m.visible().startsWith("I edit photos"));
    List<TelegramStub.Call> tries = telegram.calls("sendmessage").stream().filter(c -> Long.valueOf(3001).equals(c.chatId())).toList();
    assertEquals(4, tries.size(), "three 429s then one success, nothing more: " + tries);
    for (int i = 1; i < tries.size(); i++) {
      long gap = tries.get(i).atMs() - tries.get(i - 1).atMs();
      assertTrue(gap >= 950, "retry " + i + " came " + gap + " ms after a 429 asking for 1 s");
    }
    assertEquals(List.of(429, 429, 429, 200), tries.stream().map(TelegramStub.Call::status).toList());
  }

  @Test
  void a429OnGetUpdatesPausesPolling() {
    startAll();
    Await.until("polling", WAIT, () -> telegram.calls("getupdates").size() >= 1);
    telegram.floodNext("getUpdates", null, 1, 2);
    Await.until("the 429 was given", WAIT, () -> telegram.calls("getupdates").stream().anyMatch(c -> c.status() == 429));
    TelegramStub.Call flood = telegram.calls("getupdates").stream().filter(c -> c.status() == 429).findFirst().orElseThrow();
    Await.until("polling again", WAIT, () -> telegram.calls("getupdates").stream().anyMatch(c -> c.atMs() > flood.atMs()));
    TelegramStub.Call next = telegram.calls("getupdates").stream().filter(c -> c.atMs() > flood.atMs()).findFirst().orElseThrow();
    assertTrue(next.atMs() - flood.atMs() >= 1950, "polled again after " + (next.atMs() - flood.atMs()) + " ms, not 2 s");
  }

  @Test
  void aConflictWithAnotherPollerIsLoggedOnceAndBackedOff() throws Exception {
    ListAppender<ILoggingEvent> logs = new ListAppender<>();
    logs.start();
    Logger poller = (Logger) LoggerFactory.getLogger(TelegramPollerVerticle.class);
    poller.addAppender(logs);
    try {
      startAll();
      Await.until("polling", WAIT, () -> telegram.calls("getupdates").size() >= 1);
      // Someone else (an old deployment) polls the same token twice: each time the bot's waiting poll gets 409.
      HttpClient http = HttpClient.newHttpClient();
      URI uri = URI.create(telegram.apiUrl() + "/bot" + TelegramStub.TOKEN + "/getUpdates?timeout=1");
      long conflictAt = 0;
      for (int i = 0; i < 2; i++) {
        Await.until("the bot is waiting in a poll", WAIT, telegram::pollWaiting);
        conflictAt = telegram.nowMs();
        http.send(HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.ofString());
        long after = conflictAt;
        Await.until("the bot polls again", WAIT, () -> telegram.calls("getupdates").stream().anyMatch(c -> c.atMs() > after + 1100));
        TelegramStub.Call next = telegram.calls("getupdates").stream().filter(c -> c.atMs() > after + 1100).findFirst().orElseThrow();
        assertTrue(next.atMs() - conflictAt >= 3_000, "after a 409 the bot waited " + (next.atMs() - conflictAt) + " ms, not 3 s");
      }
      assertEquals(2, telegram.conflicts(), "each foreign poll cost the bot's waiting poll one 409");
      long warnings = logs.list.stream().filter(e -> e.getFormattedMessage().contains("another program polls")).count();
      assertEquals(1, warnings, "logged once per episode, not per 409");
      // And the bot still works.
      JsonObject cy = telegram.user(3003, "Cy", "en");
      telegram.sendText(cy, "/help");
      telegram.awaitBotMessage(3003, "answer", WAIT, m -> m.visible().startsWith("I edit photos"));
    } finally {
      poller.detachAppender(logs);
    }
  }

  @Test
  void aWebhookLeftSetIsDeletedBeforePollingWhichAsksForAnExplicitListOfUpdates() {
    telegram.webhookLeftSet("https://old-deployment.example/telegram/webhook");
    startAll();
    Await.until("polling", WAIT, () -> !telegram.calls("getupdates").isEmpty());
    List<TelegramStub.Call> start = telegram.calls().stream()
        .filter(c -> c.method().equals("deletewebhook") || c.method().equals("getupdates")).toList();
    assertEquals("deletewebhook", start.get(0).method(), "the webhook is deleted before the first poll: " + start);
    assertEquals(200, start.get(0).status());
    assertEquals(false, start.get(0).params().getBoolean("drop_pending_updates"), "updates waiting in Telegram are kept");
    assertEquals("", telegram.webhookUrl());
    assertTrue(telegram.calls("getupdates").stream().noneMatch(c -> c.status() == 409), "no poll ran into the webhook");
    // Named, not omitted: an omitted list keeps whatever an earlier setWebhook or getUpdates stored.
    List<String> wanted = List.of("callback_query", "message", "my_chat_member");
    for (TelegramStub.Call poll : telegram.calls("getupdates")) {
      assertEquals(wanted, poll.params().getJsonArray("allowed_updates").stream().map(String::valueOf).sorted().toList());
    }
    assertEquals(java.util.Set.copyOf(wanted), telegram.allowedUpdates());
    JsonObject kai = telegram.user(3011, "Kai", "en");
    telegram.sendText(kai, "/help");
    telegram.awaitBotMessage(3011, "answered through polling", WAIT, m -> m.visible().startsWith("I edit photos"));
  }

  @Test
  void aPersonWhoBlockedTheBotGetsNothingMore() {
    startAll();
    worker.holdJobs(true);
    JsonObject dee = telegram.user(3004, "Dee", "en");
    telegram.sendPhoto(dee, Images.jpeg(300, 200), "make it pink");
    Await.until("running", WAIT, () -> worker.taken().size() == 1);
    telegram.blockBot(dee);
    Await.until("the bot learnt it (my_chat_member)", WAIT,
        () -> await(bot.queue().redis().send(io.vertx.redis.client.Command.EXISTS, bot.keys().blocked(3004))).toInteger() == 1);
    sleep(500); // an edit already on its way when the block became known may still land (and get its 403)
    int callsBefore = telegram.calls().size();
    worker.release();
    String id = worker.taken().get(0);
    Await.until("the outcome was settled", WAIT, () -> {
      var r = await(bot.queue().redis().send(io.vertx.redis.client.Command.HGET, bot.queue().keys().job(id), "tg_delivered"));
      return r != null && r.toString().endsWith("|blocked");
    });
    List<TelegramStub.Call> sendsToDee = telegram.calls().subList(callsBefore, telegram.calls().size()).stream()
        .filter(c -> Long.valueOf(3004).equals(c.chatId())).toList();
    assertEquals(List.of(), sendsToDee, "no result, no status edit to a person who blocked the bot");
    assertEquals(0, photos(dee));
    // Unblocking and writing again: answered again.
    telegram.unblockBot(dee);
    Await.until("the bot learnt it", WAIT,
        () -> await(bot.queue().redis().send(io.vertx.redis.client.Command.EXISTS, bot.keys().blocked(3004))).toInteger() == 0);
    telegram.sendText(dee, "/help");
    telegram.awaitBotMessage(3004, "answered again", WAIT, m -> m.visible().startsWith("I edit photos"));
  }

  @Test
  void a403FromTelegramMarksTheChatBlockedAndIsNotRetried() {
    startAll();
    JsonObject eli = telegram.user(3005, "Eli", "en");
    telegram.failNext("sendMessage", 3005L, 1, 403, "Forbidden: bot was blocked by the user");
    telegram.sendText(eli, "/help");
    Await.until("marked blocked", WAIT,
        () -> await(bot.queue().redis().send(io.vertx.redis.client.Command.EXISTS, bot.keys().blocked(3005))).toInteger() == 1);
    assertEquals(1, telegram.calls("sendmessage").stream().filter(c -> Long.valueOf(3005).equals(c.chatId())).count(),
        "a 403 is not retried");
  }

  @Test
  void serverErrorsAreRetriedWithBackOff() {
    startAll();
    JsonObject fin = telegram.user(3006, "Fin", "en");
    telegram.failNext("sendPhoto", 3006L, 2, 502, "Bad Gateway");
    telegram.sendPhoto(fin, Images.jpeg(300, 200), "add clouds");
    Await.until("the result after two 502s", WAIT, () -> photos(fin) == 1);
    List<TelegramStub.Call> tries = telegram.calls("sendphoto");
    assertEquals(List.of(502, 502, 200), tries.stream().map(TelegramStub.Call::status).toList());
    assertTrue(tries.get(2).atMs() - tries.get(1).atMs() >= 200, "backed off between tries");
  }

  @Test
  void aResultPictureTelegramRefusesForGoodIsToldInWords() {
    startAll();
    JsonObject ida = telegram.user(3009, "Ida", "en");
    // a group where the bot may write but not send media: the photo and the file are both refused
    telegram.failNext("sendPhoto", 3009L, 1, 400, "Bad Request: not enough rights to send photos to the chat");
    telegram.failNext("sendDocument", 3009L, 1, 400, "Bad Request: not enough rights to send documents to the chat");
    telegram.sendPhoto(ida, Images.jpeg(300, 200), "make it autumn");
    telegram.awaitBotMessage(3009, "told in words", WAIT,
        m -> m.visible().startsWith("Your edit is ready, but Telegram would not accept the picture here")
            && m.visible().contains("not enough rights to send documents"));
    assertEquals(0, photos(ida));
    assertEquals(1, telegram.calls("sendphoto").stream().filter(c -> Long.valueOf(3009).equals(c.chatId())).count(),
        "a refusal for good is not retried");
  }

  @Test
  void telegramUnreachableThenBackTheBotRecoversByItself() throws Exception {
    startAll();
    worker.holdJobs(true);
    JsonObject gil = telegram.user(3007, "Gil", "en");
    telegram.sendPhoto(gil, Images.jpeg(300, 200), "make it snow");
    Await.until("running", WAIT, () -> worker.taken().size() == 1);
    telegram.down();
    worker.release(); // the result is ready while Telegram cannot be reached
    JsonObject hu = telegram.user(3008, "Hu", "en");
    telegram.sendText(hu, "/help"); // waits in Telegram for the bot
    Thread.sleep(2_500);
    telegram.up();
    Await.until("the result arrives", WAIT, () -> photos(gil) == 1);
    telegram.awaitBotMessage(3008, "the waiting message is answered", WAIT, m -> m.visible().startsWith("I edit photos"));
    Thread.sleep(1_000);
    assertEquals(1, photos(gil), "delivered once");
  }

  @Test
  void anOutcomeTrimmedFromTheStreamWhileTheBotWasDownIsStillDeliveredOnce() throws Exception {
    startAll();
    worker.holdJobs(true);
    JsonObject jo = telegram.user(3010, "Jo", "en");
    telegram.sendPhoto(jo, Images.jpeg(300, 200), "make it foggy");
    Await.until("running", WAIT, () -> worker.taken().size() == 1);
    io.qwenedit.config.Config cfg = bot.config;
    bot.crash(); // the bot is down while the job finishes...
    worker.release();
    Await.until("finished", WAIT, () -> worker.completed().size() == 1);
    // ... long enough for the outcomes stream, shared by every client, to be trimmed past its entry (EVENTS_MAX_LEN)
    await(bot.queue().redis().send(io.vertx.redis.client.Command.XTRIM, bot.queue().keys().outcomes(), "MAXLEN", "0"));
    bot = BotHarness.start(cfg, "bot-a2");
    Await.until("the result arrives anyway", Duration.ofSeconds(45), () -> photos(jo) == 1);
    Thread.sleep(2_000);
    assertEquals(1, photos(jo), "once");
  }

  @Test
  void aHungConnectionIsDroppedAndTheCallRetried() {
    startAll();
    Await.until("polling", WAIT, () -> telegram.calls("getupdates").size() >= 1);
    telegram.hangNext("getUpdates", 1);
    telegram.hangNext("sendMessage", 1);
    JsonObject ida = telegram.user(3009, "Ida", "en");
    telegram.sendText(ida, "/help");
    StubChat.Message m = telegram.awaitBotMessage(3009, "answered despite a hung poll and a hung send", WAIT,
        x -> x.visible().startsWith("I edit photos"));
    assertEquals(1, telegram.botMessages(ida).size(), "one answer: " + telegram.botMessages(ida));
    assertTrue(m != null);
  }

  @Test
  void aGroupThatBecameASupergroupGetsItsResultThere() {
    startAll();
    worker.holdJobs(true);
    JsonObject jan = telegram.user(3010, "Jan", "en");
    long group = -4001;
    telegram.group(group);
    telegram.sendText(jan, group, "/help");
    telegram.awaitBotMessage(group, "answer in the group", WAIT, m -> m.visible().startsWith("I edit photos"));
    long supergroup = telegram.migrateGroup(group);
    telegram.sendText(jan, group, "/help");
    telegram.awaitBotMessage(supergroup, "answer in the supergroup", WAIT, m -> m.visible().startsWith("I edit photos"));
    Await.until("the move is remembered", WAIT,
        () -> await(bot.queue().redis().send(io.vertx.redis.client.Command.GET, bot.keys().migrated(group))) != null);
  }

  @Test
  void readinessReportsPollingAndARejectedTokenFailsIt() {
    startAll();
    Await.until("polling", WAIT, () -> telegram.calls("getupdates").size() >= 1);
    Await.until("bot/poll, bot/delivery and bot/leader are up", WAIT, () -> {
      JsonObject r = await(io.qwenedit.health.Health.of(bot.vertx()).readiness().checkStatus()).toJson();
      return "UP".equals(r.getString("status")) && r.getJsonArray("checks").getJsonObject(0).getJsonArray("checks").size() == 3;
    });
    JsonObject poll = await(io.qwenedit.health.Health.of(bot.vertx()).readiness().invoke("bot/poll"));
    assertEquals("UP", poll.getString("status"));
    assertTrue(poll.getJsonObject("data").getDouble("last_poll_age_s") < 5, poll.encode());
    bot.close();
    worker.close();
    worker = null;
    // The same bot with a token Telegram does not know: polling stops with a clear reason, readiness fails.
    bot = BotHarness.start(REDIS.url(), telegram, "TELEGRAM_BOT_TOKEN", "7000000001:AAThisTokenWasRevokedByBotFather");
    Await.until("the 401 is seen", WAIT, () -> telegram.calls().stream().anyMatch(c -> c.status() == 401));
    Await.until("readiness fails", WAIT, () -> {
      io.vertx.ext.healthchecks.CheckResult r = await(io.qwenedit.health.Health.of(bot.vertx()).readiness().checkStatus());
      return Boolean.FALSE.equals(r.getUp()) && r.toJson().encode().contains("Telegram refused the token (401)");
    });
    sleep(1_500);
    assertEquals(1, telegram.calls().stream().filter(c -> c.status() == 401
        && (c.method().equals("deletewebhook") || c.method().equals("getupdates"))).count(), "the poller does not retry a 401 in a loop");
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
