package io.qwenedit.bot;

import static io.qwenedit.testing.Await.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qwenedit.queue.Job;
import io.qwenedit.testing.Await;
import io.qwenedit.testing.Images;
import io.qwenedit.testing.RedisServerExtension;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Redis killed and started again under a running bot: it keeps answering, keeps requests, and catches up. */
class BotRedisOutageTest extends BotEndToEnd {
  @RegisterExtension
  static final RedisServerExtension REDIS = new RedisServerExtension(true);
  private static final Duration WAIT = Duration.ofSeconds(30);

  @Override
  protected String redisUrl() {
    return REDIS.url();
  }

  @Test
  void whileRedisIsDownTheBotAnswersKeepsRequestsAndQueuesThemOnceItIsBack() throws Exception {
    startAll();
    JsonObject ann = telegram.user(5001, "Ann", "en");
    telegram.sendText(ann, "/help");
    telegram.awaitBotMessage(5001, "running normally", WAIT, m -> m.visible().startsWith("I edit photos"));

    REDIS.server().kill();
    JsonObject bob = telegram.user(5002, "Bob", "en");
    JsonObject cy = telegram.user(5003, "Cy", "ru");
    JsonObject di = telegram.user(5004, "Di", "en");
    telegram.sendPhoto(ann, Images.jpeg(300, 200), "make it sunny");
    telegram.sendPhoto(bob, Images.jpeg(300, 200), null);
    telegram.sendText(bob, "make it rainy");
    telegram.sendText(cy, "/status");
    telegram.sendText(di, "/help");
    telegram.awaitBotMessage(5001, "told, request kept", WAIT, m -> m.visible().startsWith("⚠️ The service is temporarily unavailable. I've kept"));
    telegram.awaitBotMessage(5002, "told, request kept", WAIT, m -> m.visible().startsWith("⚠️ The service is temporarily unavailable. I've kept"));
    telegram.awaitBotMessage(5003, "told to try later, in Russian", WAIT, m -> m.visible().startsWith("⚠️ Сервис временно недоступен. Попробуйте"));
    telegram.awaitBotMessage(5004, "help needs no Redis", WAIT, m -> m.visible().startsWith("I edit photos"));
    int pollsDuringOutage = telegram.calls("getupdates").size();
    Thread.sleep(2_000);
    assertTrue(telegram.calls("getupdates").size() > pollsDuringOutage, "the bot kept polling Telegram while Redis was down");

    REDIS.server().restart();
    Await.until("Ann's kept request delivered", WAIT, () -> photos(5001) == 1);
    Await.until("Bob's photo-then-text delivered", WAIT, () -> photos(5002) == 1);
    String bobJob = worker.completed().stream().filter(id -> {
      Job j = await(bot.queue().get(id));
      return j != null && j.source().getLong("chat") == 5002;
    }).findFirst().orElseThrow();
    assertEquals("make it rainy", await(bot.queue().get(bobJob)).prompt(), "the kept photo and text were handled in order");
    Thread.sleep(1_000);
    assertEquals(1, photos(5001), "once");
    assertEquals(1, photos(5002), "once");
    assertEquals(2, worker.completed().size());
  }
}
