package io.qwenedit.bot;

import io.qwenedit.telegram.TelegramStub;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * What the end-to-end bot tests share: a Telegram stub of their own for each test, the bot and the worker on the real
 * queue they start, and the clean-up of all three after each test, passed or failed.
 */
abstract class BotEndToEnd {
  protected TelegramStub telegram;
  protected BotHarness bot;
  protected EditBackend worker;

  /** The redis-server this class's tests run on. */
  protected abstract String redisUrl();

  /** Sampler steps of the test worker's edits. */
  protected int workerSteps() {
    return 2;
  }

  /** Milliseconds per step of the test worker's edits. */
  protected int workerStepMs() {
    return 50;
  }

  @BeforeEach
  void startTelegram() {
    telegram = TelegramStub.start();
  }

  @AfterEach
  void closeBotWorkerAndTelegram() {
    if (worker != null) {
      worker.close();
    }
    if (bot != null) {
      bot.close();
    }
    telegram.close();
  }

  /** The bot (with settings overridden as name, value pairs) and a worker for its queue. */
  protected void startAll(String... overrides) {
    bot = BotHarness.start(redisUrl(), telegram, overrides);
    worker = EditBackend.start(bot.config, workerSteps(), workerStepMs());
  }

  /** How many photos the bot has sent to this chat: results, since the bot sends no other photos. */
  protected long photos(long chat) {
    return telegram.botMessages(chat).stream().filter(m -> "photo".equals(m.kind())).count();
  }

  protected long photos(JsonObject user) {
    return photos(user.getLong("id"));
  }
}
