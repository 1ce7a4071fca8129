package io.qwenedit.bot;

import static io.qwenedit.testing.Await.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qwenedit.telegram.TelegramStub;
import io.qwenedit.testing.Await;
import io.qwenedit.testing.Images;
import io.qwenedit.testing.RedisServerExtension;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import java.time.Duration;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The old bot kept every person's state in memory (aiogram's MemoryStorage) and grew without bound. Here many
 * people (30,000 in the suite, 100,000 for the documented figure) each send a photo without a caption (the bot must remember each photo until its instruction comes): the
 * state ends up in Redis and the bot's heap stays flat. The bound is generous (CI is noisy) but would fail if the
 * state were held in memory: even a bare map entry per person with a small JSON object costs several hundred bytes.
 */
class BotMemoryTest {
  @RegisterExtension
  static final RedisServerExtension REDIS = new RedisServerExtension();
  private static final int WARM_UP = 3_000;
  /** 30,000 in the suite (a few seconds); {@code -Dbot.memory.people=100000} for the figure in docs/bot.md. */
  private static final int PEOPLE = Integer.getInteger("bot.memory.people", 30_000);
  /** A pending photo kept in memory would cost well over this per person (a JsonObject alone is ~500 bytes). */
  private static final long MAX_BYTES_PER_PERSON = 250;

  @Test
  void manyPeopleEachSendingOneMessageLeaveTheHeapFlat() {
    try (TelegramStub telegram = TelegramStub.start()) {
      telegram.recording(false);
      BotHarness bot = BotHarness.start(REDIS.url(), telegram, "BOT_GLOBAL_RATE", "100000", "BOT_CHAT_INTERVAL", "0");
      try {
        Buffer photo = Images.jpeg(32, 32);
        long t0 = System.nanoTime();
        send(telegram, photo, 1, WARM_UP);
        long before = usedHeapAfterGc();
        send(telegram, photo, WARM_UP + 1, WARM_UP + PEOPLE);
        long took = (System.nanoTime() - t0) / 1_000_000;
        long after = usedHeapAfterGc();
        long pendingInRedis = await(bot.queue().redis().send(Command.DBSIZE)).toLong();
        long growth = after - before;
        System.out.printf(Locale.ROOT, "bot memory: %d people answered in %.1f s; heap after GC %.1f MB -> %.1f MB (%+.1f MB, %d bytes"
                + " per person); %d keys in Redis%n", WARM_UP + PEOPLE, took / 1000.0, before / 1e6, after / 1e6, growth / 1e6,
            growth / PEOPLE, pendingInRedis);
        assertTrue(pendingInRedis >= WARM_UP + PEOPLE, "every waiting photo is in Redis: " + pendingInRedis + " keys");
        assertTrue(growth < MAX_BYTES_PER_PERSON * PEOPLE, "heap grew " + growth / 1e6 + " MB for " + PEOPLE + " people");
      } finally {
        bot.close();
      }
    }
  }

  /** People {@code from..to} each send one photo without a caption; returns once every one was answered. */
  private static void send(TelegramStub telegram, Buffer photo, int from, int to) {
    for (int id = from; id <= to; id++) {
      while (telegram.pendingUpdates() > 2_000) {
        Thread.onSpinWait();
        sleep(1);
      }
      JsonObject user = new JsonObject().put("id", 10_000_000L + id).put("is_bot", false).put("first_name", "P").put("language_code", "en");
      telegram.sendPhoto(user, photo, null);
    }
    Await.until("everyone answered", Duration.ofSeconds(240), () -> telegram.count("sendmessage") >= to);
  }

  private static long usedHeapAfterGc() {
    Runtime rt = Runtime.getRuntime();
    long used = Long.MAX_VALUE;
    for (int i = 0; i < 5; i++) {
      System.gc();
      sleep(200);
      used = Math.min(used, rt.totalMemory() - rt.freeMemory());
    }
    return used;
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
