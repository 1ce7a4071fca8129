package io.qwenedit.bot;

import static io.qwenedit.testing.Await.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qwenedit.telegram.StubChat;
import io.qwenedit.testing.Await;
import io.qwenedit.testing.Images;
import io.qwenedit.testing.RedisServerExtension;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Commands, per-person limits, admins, and the person's language. */
class BotCommandsTest extends BotEndToEnd {
  @RegisterExtension
  static final RedisServerExtension REDIS = new RedisServerExtension();
  private static final Duration WAIT = Duration.ofSeconds(15);

  @Override
  protected String redisUrl() {
    return REDIS.url();
  }

  @Test
  void startAndHelpExplainTheBotAndItsLimits() {
    startAll("BOT_DAILY_QUOTA", "7", "BOT_MAX_ACTIVE_JOBS_PER_USER", "2");
    JsonObject amy = telegram.user(2001, "Amy", "en-GB");
    telegram.sendText(amy, "/start");
    StubChat.Message m = telegram.awaitBotMessage(2001, "the welcome", WAIT, x -> x.visible().startsWith("Hello!"));
    assertTrue(m.visible().contains("up to 20 MB"), m.visible());
    assertTrue(m.visible().contains("2 edit(s) at a time, 7 per day"), m.visible());
    telegram.sendText(amy, "/help@qwenedit_test_bot");
    telegram.awaitBotMessage(2001, "the help", WAIT, x -> x.visible().startsWith("I edit photos on request"));
    telegram.sendText(amy, "/frobnicate");
    telegram.awaitBotMessage(2001, "unknown command", WAIT, x -> x.visible().contains("I don't know that command"));
    Await.until("the command menu is set in both languages", WAIT, () -> telegram.commandsSet().size() == 2);
    assertTrue(telegram.commandsSet().stream().anyMatch(c -> "ru".equals(c.getString("language_code"))));
  }

  @Test
  void russianSpeakersGetRussianTexts() {
    startAll();
    JsonObject ivan = telegram.user(2002, "Иван", "ru");
    telegram.sendText(ivan, "сделай небо фиолетовым");
    telegram.awaitBotMessage(2002, "asks for a photo in Russian", WAIT, m -> m.visible().startsWith("Сначала пришлите фото"));
    telegram.sendPhoto(ivan, Images.jpeg(300, 200), "сделай небо фиолетовым");
    StubChat.Message result = telegram.awaitBotMessage(2002, "the result", WAIT, m -> "photo".equals(m.kind()));
    assertTrue(result.buttons().contains("🔁 Ещё раз"), result.buttons().toString());
    telegram.awaitBotMessage(2002, "done in Russian", WAIT, m -> m.visible().equals("✅ Готово."));
    // Any other language falls back to English.
    JsonObject hans = telegram.user(2003, "Hans", "de");
    telegram.sendText(hans, "/help");
    telegram.awaitBotMessage(2003, "English help", WAIT, m -> m.visible().startsWith("I edit photos on request"));
  }

  @Test
  void onlyOneActiveJobPerPersonByDefault() {
    startAll();
    worker.holdJobs(true);
    JsonObject bea = telegram.user(2004, "Bea", "en");
    telegram.sendPhoto(bea, Images.jpeg(300, 200), "first");
    Await.until("the first is running", WAIT, () -> worker.taken().size() == 1);
    telegram.sendPhoto(bea, Images.jpeg(300, 200), "second");
    telegram.awaitBotMessage(2004, "the limit", WAIT,
        m -> m.visible().equals("You already have 1 edit(s) in progress, and the limit is 1. Wait for it to finish, or /cancel it."));
    assertEquals(0L, await(bot.queue().depth()), "the second was not queued");
    worker.holdJobs(false);
    worker.release();
    Await.until("the first result", WAIT, () -> photos(bea) == 1);
    telegram.sendPhoto(bea, Images.jpeg(300, 200), "third");
    Await.until("the third is accepted once the first was delivered", WAIT, () -> photos(bea) == 2);
  }

  @Test
  void theDailyQuotaIsCountedInRedisAndExplained() {
    startAll("BOT_DAILY_QUOTA", "2", "BOT_MAX_ACTIVE_JOBS_PER_USER", "10");
    JsonObject cal = telegram.user(2005, "Cal", "en");
    telegram.sendPhoto(cal, Images.jpeg(300, 200), "one");
    telegram.sendPhoto(cal, Images.jpeg(300, 200), "two");
    Await.until("two results", WAIT, () -> photos(cal) == 2);
    telegram.sendPhoto(cal, Images.jpeg(300, 200), "three");
    telegram.awaitBotMessage(2005, "quota", WAIT, m -> m.visible().startsWith("You've used all 2 edits for today"));
    assertEquals(2, worker.taken().size());
    // A refused request (bad input) does not use up the quota.
    JsonObject dot = telegram.user(2006, "Dot", "en");
    telegram.sendPhoto(dot, Images.jpeg(300, 200), "x".repeat(2000));
    telegram.sendDocument(dot, io.vertx.core.buffer.Buffer.buffer("junk"), 4, "a.png", "image/png", "edit");
    telegram.awaitBotMessage(2006, "not a picture", WAIT, m -> m.visible().contains("isn't a picture"));
    telegram.sendPhoto(dot, Images.jpeg(300, 200), "fine");
    telegram.sendPhoto(dot, Images.jpeg(300, 200), "also fine");
    Await.until("both accepted", WAIT, () -> photos(dot) == 2);
  }

  @Test
  void adminsSeeStatsAndCanBanOthersCannot() {
    startAll("BOT_ADMIN_IDS", "2007");
    JsonObject boss = telegram.user(2007, "Boss", "en");
    JsonObject eve = telegram.user(2008, "Eve", "en");
    telegram.sendText(eve, "/stats");
    telegram.awaitBotMessage(2008, "refused", WAIT, m -> m.visible().equals("This command is for administrators."));
    telegram.sendText(boss, "/stats");
    StubChat.Message stats = telegram.awaitBotMessage(2007, "stats", WAIT, m -> m.visible().startsWith("Queue:"));
    assertTrue(stats.visible().contains("Workers online: 1."), stats.visible());
    assertTrue(stats.visible().contains("test-worker"), stats.visible());

    telegram.sendText(boss, "/ban 2008");
    telegram.awaitBotMessage(2007, "banned", WAIT, m -> m.visible().equals("User 2008 is banned."));
    telegram.sendPhoto(eve, Images.jpeg(300, 200), "anything");
    telegram.awaitBotMessage(2008, "refused", WAIT, m -> m.visible().equals("Sorry, you can't use this bot."));
    assertEquals(0, worker.taken().size());
    telegram.sendText(boss, "/unban 2008");
    telegram.awaitBotMessage(2007, "unbanned", WAIT, m -> m.visible().equals("User 2008 is no longer banned."));
    telegram.sendPhoto(eve, Images.jpeg(300, 200), "anything");
    Await.until("served again", WAIT, () -> photos(eve) == 1);
  }

  @Test
  void anAllowListKeepsEveryoneElseOut() {
    startAll("BOT_ALLOWED_USERS", "2009", "BOT_BANNED_USERS", "2011");
    JsonObject friend = telegram.user(2009, "Friend", "en");
    JsonObject stranger = telegram.user(2010, "Stranger", "en");
    telegram.sendPhoto(stranger, Images.jpeg(300, 200), "hello");
    telegram.awaitBotMessage(2010, "private", WAIT, m -> m.visible().equals("Sorry, this bot is private."));
    telegram.sendPhoto(friend, Images.jpeg(300, 200), "hello");
    Await.until("the friend is served", WAIT, () -> photos(friend) == 1);
    assertEquals(1, worker.taken().size());
  }

  @Test
  void peopleOnTheConfiguredBanListAreRefusedAndNothingIsQueuedForThem() {
    startAll("BOT_BANNED_USERS", "2016,2017");
    JsonObject mal = telegram.user(2016, "Mal", "en");
    JsonObject ned = telegram.user(2018, "Ned", "en");
    telegram.sendPhoto(mal, Images.jpeg(300, 200), "make it dark");
    telegram.sendPhoto(mal, Images.jpeg(300, 200), null);
    telegram.sendText(mal, "make it dark");
    telegram.sendText(mal, "/start");
    Await.until("four answers", WAIT, () -> telegram.botMessages(mal).size() >= 4);
    assertEquals(List.of("Sorry, you can't use this bot."),
        telegram.botMessages(mal).stream().map(StubChat.Message::visible).distinct().toList(),
        "each message got the refusal and nothing else: " + telegram.botMessages(mal));
    telegram.sendPhoto(ned, Images.jpeg(300, 200), "make it bright");
    Await.until("someone not on the list is served", WAIT, () -> photos(ned) == 1);
    assertEquals(1, worker.taken().size(), "only Ned's edit ran");
    assertEquals(1, telegram.calls("getFile").size(), "Mal's photos were not even downloaded");
    assertEquals(0, await(bot.queue().redis().send(io.vertx.redis.client.Command.EXISTS, bot.keys().pending(2016))).toInteger(),
        "Mal's photo without a caption is not kept for an instruction");
    assertEquals(4, telegram.botMessages(mal).size(), "nothing more for Mal: " + telegram.botMessages(mal));
  }

  @Test
  void aBannedPersonCannotStartEditsWithTheButtonsOfAnEarlierResult() {
    startAll("BOT_ADMIN_IDS", "2019");
    JsonObject boss = telegram.user(2019, "Boss", "en");
    JsonObject ola = telegram.user(2020, "Ola", "en");
    telegram.sendPhoto(ola, Images.jpeg(300, 200), "make it snow");
    StubChat.Message result = telegram.awaitBotMessage(2020, "the result", WAIT, m -> "photo".equals(m.kind()));
    // Banned by an admin (kept in Redis): "Again" on the old result is refused, on the button itself.
    telegram.sendText(boss, "/ban 2020");
    telegram.awaitBotMessage(2019, "banned", WAIT, m -> m.visible().equals("User 2020 is banned."));
    String press = telegram.press(ola, result, result.buttonData("Again"));
    assertEquals("Sorry, you can't use this bot.", callbackAnswer(press).getString("text"));
    // Banned in the configuration (the bot restarted with the list), and no longer in Redis: refused the same way.
    bot.close();
    bot = BotHarness.start(REDIS.url(), telegram, "BOT_ADMIN_IDS", "2019", "BOT_BANNED_USERS", "2020");
    telegram.sendText(boss, "/unban 2020");
    telegram.awaitBotMessage(2019, "unbanned", WAIT, m -> m.visible().equals("User 2020 is no longer banned."));
    press = telegram.press(ola, result, result.buttonData("Again"));
    assertEquals("Sorry, you can't use this bot.", callbackAnswer(press).getString("text"));
    assertEquals(1, worker.taken().size(), "no new edit: " + worker.taken());
    assertEquals(0L, await(bot.queue().depth()));
    assertEquals(1, photos(ola));
  }

  private JsonObject callbackAnswer(String callbackId) {
    Await.until("the press is answered", WAIT, () -> telegram.callbackAnswers().stream()
        .anyMatch(a -> callbackId.equals(a.getString("callback_query_id"))));
    return telegram.callbackAnswers().stream().filter(a -> callbackId.equals(a.getString("callback_query_id")))
        .findFirst().orElseThrow();
  }

  @Test
  void statusShowsTheLastJob() {
    startAll();
    worker.pause(true);
    JsonObject fox = telegram.user(2012, "Fox", "en");
    telegram.sendText(fox, "/status");
    telegram.awaitBotMessage(2012, "nothing yet", WAIT, m -> m.visible().startsWith("You haven't asked for an edit yet"));
    telegram.sendPhoto(fox, Images.jpeg(300, 200), "paint it red");
    telegram.awaitBotMessage(2012, "queued", WAIT, m -> m.visible().contains("In the queue"));
    telegram.sendText(fox, "/status");
    telegram.awaitBotMessage(2012, "status", WAIT,
        m -> m.visible().equals("Your last edit, \"paint it red\": in the queue, number 1."));
    worker.pause(false);
    telegram.awaitBotMessage(2012, "result", WAIT, m -> "photo".equals(m.kind()));
    telegram.sendText(fox, "/status");
    telegram.awaitBotMessage(2012, "done", WAIT, m -> m.visible().equals("Your last edit, \"paint it red\": done."));
  }

  @Test
  void placesInLineAreUpdatedAsTheQueueMoves() {
    startAll("BOT_MAX_ACTIVE_JOBS_PER_USER", "5");
    worker.pause(true);
    List<JsonObject> people = List.of(telegram.user(2013, "P1", "en"), telegram.user(2014, "P2", "en"),
        telegram.user(2015, "P3", "en"));
    for (JsonObject p : people) {
      telegram.sendPhoto(p, Images.jpeg(200, 200), "edit");
      telegram.awaitBotMessage(p.getLong("id"), "queued", WAIT, m -> m.visible().contains("In the queue"));
    }
    telegram.awaitBotMessage(2015, "third in line", WAIT, m -> m.visible().equals("🕐 In the queue: you are number 3."));
    worker.holdJobs(true);
    worker.pause(false);
    Await.until("the first is running", WAIT, () -> worker.taken().size() == 1);
    telegram.awaitBotMessage(2015, "moved up", WAIT, m -> m.visible().equals("🕐 In the queue: you are number 2."));
    worker.holdJobs(false);
    worker.release();
    Await.until("everyone served", WAIT, () -> people.stream().allMatch(p -> photos(p) == 1));
  }
}
