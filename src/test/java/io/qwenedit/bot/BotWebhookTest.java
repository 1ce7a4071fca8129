package io.qwenedit.bot;

import static io.qwenedit.testing.Await.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qwenedit.redis.LocalRedisServer;
import io.qwenedit.telegram.TelegramStub;
import io.qwenedit.testing.Await;
import io.qwenedit.testing.Images;
import io.qwenedit.testing.RedisServerExtension;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Webhook mode: Telegram posts updates to us; only requests with the secret header are taken. */
class BotWebhookTest {
  @RegisterExtension
  static final RedisServerExtension REDIS = new RedisServerExtension();
  private static final Duration WAIT = Duration.ofSeconds(15);
  private static final String SECRET = "s3cr3t_Token-for-tests";

  private TelegramStub telegram;
  private BotHarness bot;
  private EditBackend worker;
  private String url;

  @BeforeEach
  void setUp() {
    telegram = TelegramStub.start();
    int port = LocalRedisServer.freePort();
    url = "http://127.0.0.1:" + port + "/telegram/webhook";
    bot = BotHarness.start(REDIS.url(), telegram, "BOT_MODE", "webhook", "BOT_WEBHOOK_URL", url, "BOT_WEBHOOK_SECRET", SECRET,
        "BOT_WEBHOOK_HOST", "127.0.0.1", "BOT_WEBHOOK_PORT", String.valueOf(port));
    worker = EditBackend.start(bot.config, 2, 50);
  }

  @AfterEach
  void tearDown() {
    worker.close();
    bot.close();
    telegram.close();
  }

  @Test
  void telegramPostsUpdatesAndTheResultComesBack() {
    Await.until("the webhook is registered", WAIT, () -> url.equals(telegram.webhookUrl()));
    JsonObject setWebhook = telegram.calls("setwebhook").get(0).params();
    assertEquals(SECRET, setWebhook.getString("secret_token"));
    assertTrue(telegram.allowedUpdates().containsAll(java.util.List.of("message", "callback_query", "my_chat_member")));
    JsonObject ann = telegram.user(6001, "Ann", "en");
    telegram.sendPhoto(ann, Images.jpeg(300, 200), "make it winter");
    telegram.awaitBotMessage(6001, "the result", WAIT, m -> "photo".equals(m.kind()));
    assertTrue(telegram.webhookStatuses().stream().allMatch(s -> s == 200), telegram.webhookStatuses().toString());
    assertEquals(0, telegram.calls("getupdates").size(), "no polling in webhook mode");
  }

  @Test
  void aRequestWithoutTheRightSecretIsRefusedAndNotHandled() {
    Await.until("the webhook is registered", WAIT, () -> url.equals(telegram.webhookUrl()));
    JsonObject eve = telegram.user(6002, "Eve", "en");
    JsonObject update = new JsonObject().put("update_id", 900_001).put("message", new JsonObject().put("message_id", 1)
        .put("from", eve).put("chat", new JsonObject().put("id", 6002).put("type", "private")).put("date", 0)
        .put("text", "/help"));
    assertEquals(401, telegram.postToWebhook(url, update, null));
    assertEquals(401, telegram.postToWebhook(url, update, "wrong"));
    assertEquals(401, telegram.postToWebhook(url, update, SECRET.substring(0, SECRET.length() - 1)));
    sleep(500);
    assertTrue(telegram.botMessages(6002).isEmpty(), "nothing was handled");
    assertEquals(200, telegram.postToWebhook(url, update, SECRET));
    telegram.awaitBotMessage(6002, "handled with the secret", WAIT, m -> m.visible().startsWith("I edit photos"));
  }

  @Test
  void theSameUpdatePostedTwiceIsHandledOnce() {
    Await.until("the webhook is registered", WAIT, () -> url.equals(telegram.webhookUrl()));
    JsonObject fay = telegram.user(6003, "Fay", "en");
    worker.pause(true);
    telegram.sendPhoto(fay, Images.jpeg(300, 200), "twice?");
    Await.until("queued", WAIT, () -> await(bot.queue().depth()) == 1);
    long id = telegram.lastUpdateId();
    Await.until("recorded as handled", WAIT, () -> await(bot.queue().redis().send(io.vertx.redis.client.Command.ZSCORE,
        bot.keys().seen(), String.valueOf(id))) != null);
    JsonObject again = new JsonObject().put("update_id", telegram.lastUpdateId()).put("message", new JsonObject()
        .put("message_id", 999).put("from", fay).put("chat", new JsonObject().put("id", 6003).put("type", "private"))
        .put("date", 0).put("text", "/help"));
    assertEquals(200, telegram.postToWebhook(url, again, SECRET), "Telegram is told it arrived");
    sleep(500);
    assertEquals(1, telegram.botMessages(6003).size(), "but it was not handled twice: " + telegram.botMessages(6003));
    assertEquals(1L, await(bot.queue().depth()));
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
