package io.qwenedit.bot;

import static io.qwenedit.testing.Await.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qwenedit.config.Config;
import io.qwenedit.queue.Job;
import io.qwenedit.testing.Await;
import io.qwenedit.testing.Images;
import io.qwenedit.testing.RedisServerExtension;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

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

  @Test
  void aRedisThatAnswersButCannotWriteIsAnOutageTooAndTheRequestIsKept() throws Exception {
    startAll();
    JsonObject fay = telegram.user(5021, "Fay", "en");
    telegram.sendText(fay, "/help");
    telegram.awaitBotMessage(5021, "running normally", WAIT, m -> m.visible().startsWith("I edit photos"));
    // a failover under way: Redis answers but refuses writes (READONLY), as it refuses them while loading its data
    // after a restart (LOADING), when full (OOM) or unable to persist (MISCONF)
    await(bot.queue().redis().send(io.vertx.redis.client.Command.REPLICAOF, "127.0.0.1",
        String.valueOf(io.qwenedit.redis.LocalRedisServer.freePort())));
    try {
      telegram.sendPhoto(fay, Images.jpeg(300, 200), "make it snowy");
      telegram.awaitBotMessage(5021, "told, request kept", WAIT,
          m -> m.visible().startsWith("⚠️ The service is temporarily unavailable. I've kept"));
      assertEquals(0, photos(5021));
    } finally {
      await(bot.queue().redis().send(io.vertx.redis.client.Command.REPLICAOF, "NO", "ONE"));
    }
    Await.until("Fay's kept request delivered once Redis takes writes again", WAIT, () -> photos(5021) == 1);
    assertTrue(telegram.botMessages(5021).stream().noneMatch(m -> m.visible().contains("can't accept this request")),
        "never told her request was at fault");
  }

  @Test
  void aFullRedisKeepsTheRequestAndDoesNotReplayItUntilWritesWorkAgain() throws Exception {
    startAll();
    JsonObject gus = telegram.user(5031, "Gus", "en");
    telegram.sendText(gus, "/help");
    telegram.awaitBotMessage(5031, "running normally", WAIT, m -> m.visible().startsWith("I edit photos"));
    var redis = bot.queue().redis();
    // full, with nothing to evict: Redis still answers PING and some writes, but refuses the job (OOM)
    await(redis.send(io.vertx.redis.client.Command.CONFIG, "SET", "maxmemory-policy", "noeviction"));
    await(redis.send(io.vertx.redis.client.Command.CONFIG, "SET", "maxmemory", "1"));
    try {
      telegram.sendPhoto(gus, Images.jpeg(300, 200), "make it stormy");
      telegram.awaitBotMessage(5031, "told, request kept", WAIT,
          m -> m.visible().startsWith("⚠️ The service is temporarily unavailable. I've kept"));
      Thread.sleep(4_000); // the kept request is looked at every second meanwhile
      long received = telegram.botMessages(5031).stream().filter(m -> m.visible().startsWith("⏳ Got it")).count();
      assertTrue(received <= 1, "not replayed while Redis is full: told 'Got it' " + received + " times");
    } finally {
      await(redis.send(io.vertx.redis.client.Command.CONFIG, "SET", "maxmemory", "0"));
    }
    Await.until("Gus's kept request delivered once Redis has room", WAIT, () -> photos(5031) == 1);
  }

  @Test
  void requestsKeptDuringAnOutageAreHandledByTheNextRunWhenTheBotStopsBeforeRedisIsBack(@TempDir Path dir) throws Exception {
    Path kept = dir.resolve("data").resolve("outage.jsonl");
    startAll("BOT_OUTAGE_FILE", kept.toString());
    JsonObject eve = telegram.user(5011, "Eve", "en");
    telegram.sendText(eve, "/help");
    telegram.awaitBotMessage(5011, "running normally", WAIT, m -> m.visible().startsWith("I edit photos"));
    REDIS.server().kill();
    int pollsBefore = telegram.calls("getupdates").size();
    telegram.sendPhoto(eve, Images.jpeg(300, 200), "make it snowy");
    telegram.awaitBotMessage(5011, "told, request kept", WAIT, m -> m.visible().startsWith("⚠️ The service is temporarily unavailable. I've kept"));
    Await.until("the kept request is on disk", WAIT, () -> lines(kept) == 1);
    // the poll after the one that brought the photo tells Telegram it arrived (its offset): it is not sent again
    Await.until("Telegram forgot the update", WAIT, () -> telegram.calls("getupdates").size() > pollsBefore);

    Config cfg = bot.config;
    bot.crash();
    bot = BotHarness.start(cfg, "bot-a2"); // starts while Redis is still down
    REDIS.server().restart();
    Await.until("Eve's kept request delivered by the next run", WAIT, () -> photos(5011) == 1);
    Await.until("the file is removed once everything in it was handled", WAIT, () -> !Files.exists(kept));
    Thread.sleep(1_000);
    assertEquals(1, photos(5011), "once");
  }

  private static int lines(Path file) {
    try {
      return Files.exists(file) ? Files.readAllLines(file).size() : 0;
    } catch (java.io.IOException e) {
      return -1;
    }
  }
}
