package io.qwenedit.bot;

import static io.qwenedit.testing.Await.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qwenedit.config.Config;
import io.qwenedit.redis.RedisCommands;
import io.qwenedit.testing.RedisServerExtension;
import io.qwenedit.testing.TestConfigs;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Response;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The bot's per-person bookkeeping in Redis: admission, quota and its refund. */
@ExtendWith(VertxExtension.class)
class BotStoreTest {
  @RegisterExtension
  static final RedisServerExtension REDIS = new RedisServerExtension();

  @Test
  void aRefundGoesBackToTheDayThatCountedTheRequestEvenAfterMidnight(Vertx vertx) {
    Config cfg = TestConfigs.config(REDIS.url(), "TELEGRAM_BOT_TOKEN", io.qwenedit.telegram.TelegramStub.TOKEN);
    RedisCommands redis = new RedisCommands(vertx, cfg.redis(), "test");
    try {
      BotStore store = new BotStore(redis, cfg);
      long user = 77;
      String before = LocalDate.now(ZoneOffset.UTC).format(DateTimeFormatter.BASIC_ISO_DATE);
      BotStore.Admission adm = await(store.admit(user, "m:1:1", 3, 5));
      String today = adm.quotaDay();
      assertEquals("ok", adm.status());
      assertTrue(adm.counted());
      assertTrue(today.equals(before) || today.equals(LocalDate.now(ZoneOffset.UTC).format(DateTimeFormatter.BASIC_ISO_DATE)),
          "the day of the admission: " + today);
      assertEquals("1", text(redis, store.keys().quota(user, today)));

      // admitted on the evening of one day, refused just after midnight: the refund is that evening's
      String evening = LocalDate.parse(today, DateTimeFormatter.BASIC_ISO_DATE).minusDays(1).format(DateTimeFormatter.BASIC_ISO_DATE);
      await(redis.send(Command.SET, store.keys().quota(user, evening), "1", "EX", "172800"));
      BotStore.Admission lastEvening = new BotStore.Admission("ok", 1, true, evening);
      await(store.release(user, "m:1:2", lastEvening));
      assertEquals("0", text(redis, store.keys().quota(user, evening)));
      assertEquals("1", text(redis, store.keys().quota(user, today)), "today's count is not touched");
      long ttl = await(redis.send(Command.TTL, store.keys().quota(user, evening))).toLong();
      assertTrue(ttl > 0, "the counter keeps its expiry: " + ttl);

      // today's own refund, and a request that was never counted (an admin's) gives nothing back
      await(store.release(user, "m:1:1", adm));
      assertEquals("0", text(redis, store.keys().quota(user, today)));
      await(store.release(user, "m:1:3", new BotStore.Admission("ok", 1, false, null)));
      assertEquals("0", text(redis, store.keys().quota(user, today)));
      String tomorrow = LocalDate.parse(today, DateTimeFormatter.BASIC_ISO_DATE).plusDays(1).format(DateTimeFormatter.BASIC_ISO_DATE);
      assertNull(text(redis, store.keys().quota(user, tomorrow)), "no counter is made for another day");
    } finally {
      await(redis.close());
    }
  }

  private static String text(RedisCommands redis, String key) {
    Response r = await(redis.send(Command.GET, key));
    return r == null ? null : r.toString();
  }
}
