package io.qwenedit.bot;

import static io.qwenedit.testing.Await.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qwenedit.queue.JobQueue;
import io.qwenedit.queue.NewJob;
import io.qwenedit.queue.QueueResults.Claimed;
import io.qwenedit.queue.Registry;
import io.qwenedit.telegram.TelegramStub;
import io.qwenedit.testing.Await;
import io.qwenedit.testing.Images;
import io.qwenedit.testing.RedisServerExtension;
import io.qwenedit.testing.TcpProxy;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Results are delivered from the durable outcome stream exactly once: across a bot restart, a crash after the send,
 * and with two instances of which one is active.
 */
class BotDeliveryTest extends BotEndToEnd {
  @RegisterExtension
  static final RedisServerExtension REDIS = new RedisServerExtension();
  private static final Duration WAIT = Duration.ofSeconds(20);

  private BotHarness other;

  @Override
  protected String redisUrl() {
    return REDIS.url();
  }

  /** Runs before the shared clean-up, which closes the worker, the first bot and Telegram. */
  @AfterEach
  void closeTheOtherBot() {
    if (other != null) {
      other.close();
    }
  }

  private long pending(BotHarness h) {
    Response r = await(h.queue().redis().send(Command.XPENDING, h.queue().keys().outcomes(), h.keys().consumerGroup()));
    return r.get(0).toLong();
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Test
  void aBotStoppedWhileTheJobFinishesDeliversItOnceAfterItRestarts() {
    startAll();
    worker.holdJobs(true);
    JsonObject ann = telegram.user(4001, "Ann", "en");
    telegram.sendPhoto(ann, Images.jpeg(300, 200), "make it autumn");
    Await.until("running", WAIT, () -> worker.taken().size() == 1);
    bot.down();
    worker.release();
    Await.until("the job finished while the bot was down", WAIT, () -> worker.completed().size() == 1);
    sleep(300);
    assertEquals(0, photos(4001));
    bot.up();
    Await.until("delivered after the restart", WAIT, () -> photos(4001) == 1);
    telegram.awaitBotMessage(4001, "status done", WAIT, m -> m.visible().equals("✅ Done."));
    Await.until("acknowledged", WAIT, () -> pending(bot) == 0);
    bot.down();
    bot.up(); // and once more: nothing is sent again
    sleep(1_500);
    assertEquals(1, photos(4001), "exactly once");
  }

  @Test
  void aCrashAfterTheDeliveredMarkNeverSendsAgain() {
    // A short lease: the crashed instance's entries may be taken over after two lease periods.
    bot = BotHarness.start(REDIS.url(), telegram, "BOT_LEASE_TTL", "1s");
    bot.down();
    JobQueue q = bot.queue();
    telegram.user(4002, "Ben", "en");
    String delivered = finishedTelegramJob(q, 4002, "first");
    String notYet = finishedTelegramJob(q, 4002, "second");
    // A previous instance read both outcomes and crashed before acknowledging them; it had sent the first one.
    // (The bot may have made the group already during its short first run.)
    await(q.redis().send(Command.XGROUP, "CREATE", q.keys().outcomes(), bot.keys().consumerGroup(), "0", "MKSTREAM")
        .otherwise((Response) null));
    await(q.redis().send(Request.cmd(Command.XREADGROUP).arg("GROUP").arg(bot.keys().consumerGroup()).arg("crashed-instance")
        .arg("COUNT").arg(10).arg("STREAMS").arg(q.keys().outcomes()).arg(">")));
    await(q.redis().send(Command.HSET, q.keys().job(delivered), "tg_delivered", System.currentTimeMillis() + "|sent"));
    assertEquals(2, pending(bot));
    bot.up();
    Await.until("both taken over and acknowledged", WAIT, () -> pending(bot) == 0);
    Await.until("the one never sent is sent", WAIT, () -> photos(4002) == 1);
    sleep(500);
    assertEquals(1, photos(4002), "the one already sent is not sent again");
    assertTrue(telegram.botMessages(4002).get(0).caption().contains("second"));
    String mark = await(q.redis().send(Command.HGET, q.keys().job(notYet), "tg_delivered")).toString();
    assertTrue(mark.endsWith("|sent"), mark);
  }

  @Test
  void aDeadLetterRetriedByAnOperatorIsDeliveredWhenItSucceeds() {
    bot = BotHarness.start(REDIS.url(), telegram);
    JobQueue q = bot.queue();
    telegram.user(4003, "Cid", "en");
    JsonObject source = new JsonObject().put("kind", "telegram").put("bot", String.valueOf(TelegramStub.BOT_ID))
        .put("chat", 4003).put("user", 4003).put("lang", "en");
    String id = await(q.enqueue(NewJob.of("retried", Images.png(64, 64)).withSource(source))).id();
    Claimed first = await(q.claim("w", 1)).jobs().get(0);
    await(q.deadLetter(id, first.fence(), "comfy_unreachable", "ComfyUI was down"));
    Await.until("the failure is told", WAIT, () -> !telegram.botMessages(4003).isEmpty());
    Await.until("acknowledged", WAIT, () -> pending(bot) == 0);
    assertTrue(await(q.retryDead(id)).accepted());
    Claimed second = await(q.claim("w", 1)).jobs().get(0);
    await(q.complete(id, second.fence(), Images.png(80, 60), new JsonObject()));
    Await.until("the result of the retried job is delivered", WAIT, () -> photos(4003) == 1);
  }

  /** Queues a Telegram job straight into the queue and runs it to success, as a worker would. */
  private static String finishedTelegramJob(JobQueue q, long chat, String prompt) {
    JsonObject source = new JsonObject().put("kind", "telegram").put("bot", String.valueOf(TelegramStub.BOT_ID))
        .put("chat", chat).put("user", chat).put("lang", "en");
    String id = await(q.enqueue(NewJob.of(prompt, Images.png(64, 64)).withSource(source))).id();
    Claimed c = await(q.claim("w", 1)).jobs().get(0);
    await(q.complete(c.id(), c.fence(), Images.png(80, 60), new JsonObject()));
    return id;
  }

  @Test
  void aSecondInstanceWaitsAndTakesOverWhenTheFirstStops() {
    startAll();
    Await.until("the first instance is active", WAIT, () -> leader() != null && leader().startsWith("bot-a-"));
    other = BotHarness.start(bot.config, "bot-b");
    sleep(1_500);
    assertTrue(leader().startsWith("bot-a"), "the second waits: " + leader());
    // `status` lists both instances and which one is active (entries refresh every 10 s)
    Registry services = Registry.services(bot.queue().redis(), bot.queue().keys());
    Await.until("both instances listed, the first one active", Duration.ofSeconds(15), () -> {
      JsonArray l = await(services.list());
      return l.size() == 2 && l.stream().map(JsonObject.class::cast).allMatch(e -> "bot".equals(e.getString("role"))
          && e.getString("id").startsWith("bot-a") == Boolean.TRUE.equals(e.getValue("active")));
    });
    JsonObject cy = telegram.user(4003, "Cy", "en");
    telegram.sendPhoto(cy, Images.jpeg(300, 200), "one");
    Await.until("served by the first", WAIT, () -> photos(4003) == 1);

    bot.down();
    assertTrue(await(services.list()).stream().map(JsonObject.class::cast).noneMatch(e -> e.getString("id").startsWith("bot-a")),
        "the stopped instance left the list at once");
    Await.until("the second took over", WAIT, () -> leader() != null && leader().startsWith("bot-b"));
    // announced when it takes over, not at its next 10 s beat
    Await.until("status shows the second as the active one", Duration.ofSeconds(3), () -> await(services.list()).stream()
        .map(JsonObject.class::cast).anyMatch(e -> e.getString("id").startsWith("bot-b") && Boolean.TRUE.equals(e.getValue("active"))));
    telegram.sendPhoto(cy, Images.jpeg(300, 200), "two");
    Await.until("served by the second", WAIT, () -> photos(4003) == 2);
    sleep(500);
    assertEquals(2, photos(4003));
    assertEquals(0, telegram.conflicts(), "the two never polled at the same time");
    assertEquals(2, telegram.botMessages(4003).stream().filter(m -> "text".equals(m.kind())).count(),
        "each request got one status message: " + telegram.botMessages(4003));
  }

  @Test
  void whenTheActiveInstanceDiesTheOtherTakesOverAfterTheLease() throws Exception {
    try (TcpProxy redisLink = new TcpProxy(REDIS.port())) {
      // Instance A reaches Redis through a link the test can cut, as if its host vanished.
      bot = BotHarness.start(BotHarness.config(redisLink.redisUrl(), telegram), "bot-a");
      Await.until("A is active", WAIT, () -> "bot-a".equals(leaderPrefix()));
      other = BotHarness.start(BotHarness.config(REDIS.url(), telegram), "bot-b");
      redisLink.freezeExisting();
      redisLink.close();
      bot.crash(); // A cannot release its lease: B must wait for it to run out
      long t0 = System.nanoTime();
      Await.until("B took over", WAIT, () -> "bot-b".equals(leaderPrefix()));
      long tookMs = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(tookMs < 8_000, "took over after " + tookMs + " ms (lease 2 s)");
      worker = EditBackend.start(other.config, 2, 50);
      JsonObject di = telegram.user(4004, "Di", "en");
      telegram.sendPhoto(di, Images.jpeg(300, 200), "hello");
      Await.until("served by B", WAIT, () -> photos(4004) == 1);
    }
  }

  private String leader() {
    Response r = await(bot.queue().redis().send(Command.GET, bot.keys().leader()));
    return r == null ? null : r.toString();
  }

  private String leaderPrefix() {
    BotHarness h = other != null ? other : bot;
    Response r = await(h.queue().redis().send(Command.GET, h.keys().leader()));
    if (r == null) {
      return null;
    }
    String s = r.toString();
    return s.substring(0, s.lastIndexOf('-'));
  }

  @Test
  void anUpdateDeliveredAgainIsHandledOnce() {
    startAll();
    worker.pause(true);
    JsonObject ed = telegram.user(4005, "Ed", "en");
    telegram.sendPhoto(ed, Images.jpeg(300, 200), "once");
    long updateId = telegram.lastUpdateId();
    Await.until("queued", WAIT, () -> await(bot.queue().depth()) == 1);
    // Telegram sends it again (the offset was not confirmed before a crash): skipped by its update_id.
    telegram.redeliver(updateId);
    sleep(1_500);
    assertEquals(1L, await(bot.queue().depth()));
    // Even with the handled-ids record gone, the job's idempotency key (chat + message) prevents a second job.
    await(bot.queue().redis().send(Command.DEL, bot.keys().seen()));
    telegram.redeliver(updateId);
    sleep(1_500);
    assertEquals(1L, await(bot.queue().depth()), "still one job");
    assertEquals(1, telegram.botMessages(4005).size(), "and one status message: " + telegram.botMessages(4005));
    worker.pause(false);
    Await.until("one result", WAIT, () -> photos(4005) == 1);
  }
}
