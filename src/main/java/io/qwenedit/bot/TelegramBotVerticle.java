package io.qwenedit.bot;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.qwenedit.config.Config;
import io.qwenedit.metrics.JobMetrics;
import io.qwenedit.metrics.Meters;
import io.qwenedit.queue.JobQueue;
import io.qwenedit.queue.Registry;
import io.qwenedit.redis.RedisCommands;
import io.qwenedit.redis.RedisUnavailableException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Handles the updates the poller (or the webhook) hands over on {@link BotAddresses#UPDATE}: one chat's updates in
 * order, different chats side by side. Replies once an update's effects are stored, so the offset only moves past
 * handled updates. While Redis is down, requests (pictures and instructions) are kept in a bounded in-memory list,
 * the person is told, and they are handled in order once Redis answers again; other updates get "try again in a
 * minute". Also records what Telegram tells the sender about chats (blocked, migrated).
 */
public final class TelegramBotVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(TelegramBotVerticle.class);
  private static final long DRAIN_EVERY_MS = 1_000;

  private final Config config;
  private RedisCommands redis;
  private TelegramClient telegram;
  private BotStore store;
  private Conversation conversation;
  private MessageConsumer<JsonObject> updates;
  private MessageConsumer<JsonObject> chatEvents;
  private MeterRegistry meters;
  private Gauge bufferGauge;
  /** The tail of each chat's chain of updates in progress (in flight only: removed when the chain ends). */
  private final Map<Long, Future<Void>> tails = new HashMap<>();
  /** Requests that arrived while Redis was down, oldest first, and how many per chat. */
  private final Deque<JsonObject> outage = new ArrayDeque<>();
  private final Map<Long, Integer> outagePerChat = new HashMap<>();
  /** Update ids of the kept requests: one Telegram sends again (its offset was never confirmed) is not kept twice. */
  private final Set<Long> keptIds = new HashSet<>();
  private long drainTimer = -1;
  private boolean draining;
  /** The same requests on disk (BOT_OUTAGE_FILE), or null: memory only. */
  private OutageFile outageFile;

  public TelegramBotVerticle(Config config) {
    this.config = config;
  }

  @Override
  public Future<?> start() {
    meters = Meters.registry(vertx);
    redis = new RedisCommands(vertx, config.redis(), "bot");
    JobQueue queue = new JobQueue(redis, config.queue());
    Registry workers = Registry.workers(redis, queue.keys());
    store = new BotStore(redis, config);
    telegram = new TelegramClient(vertx, config.bot(), JobMetrics.of(vertx), 8, config.bot().httpTimeout().toMillis());
    conversation = new Conversation(vertx, config.bot(), config.queue(), queue, workers, store, new Outbox(vertx), telegram);
    bufferGauge = Gauge.builder("qwenedit.bot.outage.buffer", outage, Deque::size)
        .description("Requests kept in memory while Redis is unreachable").register(meters);
    updates = vertx.eventBus().<JsonObject>localConsumer(BotAddresses.UPDATE, this::onUpdate);
    chatEvents = vertx.eventBus().<JsonObject>localConsumer(BotAddresses.CHAT_EVENT, this::onChatEvent);
    Future<Void> kept = Future.succeededFuture();
    if (config.bot().outageFile() != null) {
      outageFile = new OutageFile(vertx, Path.of(config.bot().outageFile()), () -> new ArrayList<>(outage));
      kept = outageFile.load().onSuccess(this::resumeKept).recover(err -> {
        LOG.error("cannot read the requests kept by an earlier run from {} ({}); they are not handled", outageFile.path(),
            err.getMessage());
        return Future.succeededFuture();
      }).mapEmpty();
    }
    return Future.all(updates.completion(), chatEvents.completion(), kept);
  }

  /** Requests an earlier run kept during a Redis outage and could not hand over before it stopped: handled now. */
  private void resumeKept(List<JsonObject> raws) {
    if (raws.isEmpty()) {
      return;
    }
    for (JsonObject raw : raws) {
      try {
        Incoming in = Incoming.parse(raw, config.queue().maxImageBytes());
        if (!keptIds.contains(in.updateId())) {
          addKept(raw, in);
        }
      } catch (RuntimeException e) {
        LOG.warn("a kept update in {} cannot be read and is skipped: {}", outageFile.path(), e.getMessage());
      }
    }
    LOG.warn("{} request(s) kept during a Redis outage by an earlier run ({}); handling them once Redis answers",
        outage.size(), outageFile.path());
    scheduleDrain();
  }

  /** The one place a kept request is added: the list, the per-chat count and the update id stay in step. */
  private void addKept(JsonObject raw, Incoming in) {
    outage.addLast(raw);
    outagePerChat.merge(in.chatId(), 1, Integer::sum);
    keptIds.add(in.updateId());
  }

  /** The one place the oldest kept request ({@code in}, once handled) is taken away. */
  private void removeFirstKept(Incoming in) {
    outage.pollFirst();
    outagePerChat.computeIfPresent(in.chatId(), (k, n) -> n <= 1 ? null : n - 1);
    keptIds.remove(in.updateId());
  }

  /** The kept requests as they now stand, on disk; resolves when they are (at once when there is no file). */
  private Future<Void> persistKept() {
    return outageFile == null ? Future.succeededFuture() : outageFile.save().otherwiseEmpty();
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(drainTimer);
    if (!outage.isEmpty()) {
      if (outageFile != null) {
        LOG.warn("stopping with {} request(s) kept from a Redis outage; they are in {} and are handled when the bot starts again",
            outage.size(), outageFile.path());
      } else {
        LOG.warn("stopping with {} request(s) kept from a Redis outage; they are lost (BOT_OUTAGE_FILE=none)", outage.size());
      }
    }
    meters.remove(bufferGauge);
    telegram.close();
    Future<Void> written = outageFile == null ? Future.succeededFuture() : outageFile.flushed();
    return Future.join(updates.unregister(), chatEvents.unregister(), written).eventually(redis::close);
  }

  private void onUpdate(Message<JsonObject> msg) {
    JsonObject raw = msg.body();
    Incoming in;
    try {
      in = Incoming.parse(raw, config.queue().maxImageBytes());
    } catch (RuntimeException e) {
      LOG.warn("update {} cannot be read and is skipped: {}", raw.getValue("update_id"), e.getMessage());
      msg.reply(new JsonObject().put("ok", true));
      return;
    }
    meters.counter("qwenedit.telegram.updates", "kind", kind(in)).increment();
    if (outagePerChat.containsKey(in.chatId()) && keepable(in)) {
      // Earlier requests of this chat wait for Redis: this one goes behind them, so their order holds. The reply
      // (which lets the poller confirm the update to Telegram) waits until it is on disk.
      keep(raw, in, false).onComplete(v -> msg.reply(new JsonObject().put("ok", true)));
      return;
    }
    inOrder(in.chatId(), () -> conversation.handle(in)).onComplete(ar -> {
      Future<Void> settled = ar.failed() ? failed(raw, in, ar.cause()) : Future.succeededFuture();
      settled.onComplete(v -> msg.reply(new JsonObject().put("ok", true)));
    });
  }

  private Future<Void> failed(JsonObject raw, Incoming in, Throwable err) {
    if (!redisDown(err)) {
      LOG.error("update {} (chat {}) failed: {}", in.updateId(), in.chatId(), err.getMessage(), err);
      conversation.send(in.chatId(), Texts.get(conversation.lang(in), "rej_default"));
      return Future.succeededFuture();
    }
    if (keepable(in)) {
      return keep(raw, in, true);
    }
    conversation.answerUnavailable(in);
    return Future.succeededFuture();
  }

  private static boolean keepable(Incoming in) {
    return in.intent() instanceof Incoming.Image || in.intent() instanceof Incoming.Text;
  }

  /** Keeps a request until Redis answers; resolves once it is on disk too. */
  private Future<Void> keep(JsonObject raw, Incoming in, boolean tell) {
    String lang = conversation.lang(in);
    if (keptIds.contains(in.updateId())) {
      return Future.succeededFuture(); // sent again by Telegram: already kept (and the person already told)
    }
    if (outage.size() >= config.bot().outageBuffer()) {
      LOG.warn("Redis is unreachable and {} requests are already kept; chat {} is asked to resend", outage.size(), in.chatId());
      conversation.send(in.chatId(), Texts.get(lang, "unavailable_resend"));
      return Future.succeededFuture();
    }
    if (outage.isEmpty()) {
      LOG.warn("Redis is unreachable: keeping requests in memory (at most {}) until it is back", config.bot().outageBuffer());
    }
    addKept(raw, in);
    Future<Void> written = persistKept();
    if (tell) {
      conversation.send(in.chatId(), Texts.get(lang, "unavailable_kept"));
    }
    scheduleDrain();
    return written;
  }

  private void scheduleDrain() {
    if (drainTimer < 0 && !draining) {
      drainTimer = vertx.setTimer(DRAIN_EVERY_MS, t -> {
        drainTimer = -1;
        drain();
      });
    }
  }

  /** Once Redis answers, handles the kept requests one by one, oldest first; stops again at the first Redis failure. */
  private void drain() {
    if (outage.isEmpty()) {
      return;
    }
    draining = true;
    // a write, not a PING: a Redis that is full, read-only or unable to persist answers PING, refuses writes, and the
    // kept request would be replayed (and the person told "queuing...") every second for as long as that lasts
    redis.send(Command.SET, store.keys().probe(), "1", "PX", "5000").onComplete(ping -> {
      if (ping.failed()) {
        draining = false;
        scheduleDrain();
        return;
      }
      JsonObject raw = outage.peekFirst();
      Incoming in = Incoming.parse(raw, config.queue().maxImageBytes());
      inOrder(in.chatId(), () -> conversation.handle(in)).onComplete(ar -> {
        if (ar.failed() && redisDown(ar.cause())) {
          draining = false;
          scheduleDrain();
          return;
        }
        if (ar.failed()) {
          LOG.error("kept update {} (chat {}) failed after the outage: {}", in.updateId(), in.chatId(), ar.cause().getMessage());
        }
        removeFirstKept(in);
        persistKept();
        if (outage.isEmpty()) {
          LOG.info("Redis is back: every kept request was handled");
          draining = false;
        } else {
          drain();
        }
      });
    });
  }

  /** Runs {@code work} after the chat's previous updates; different chats run side by side. */
  private Future<Void> inOrder(long chatId, Supplier<Future<Void>> work) {
    Future<Void> previous = tails.getOrDefault(chatId, Future.succeededFuture());
    Promise<Void> done = Promise.promise();
    Future<Void> mine = done.future();
    tails.put(chatId, mine);
    previous.onComplete(x -> {
      Future<Void> f;
      try {
        f = work.get();
      } catch (RuntimeException e) {
        f = Future.failedFuture(e);
      }
      f.onComplete(done);
    });
    mine.onComplete(x -> tails.remove(chatId, mine));
    return mine;
  }

  private void onChatEvent(Message<JsonObject> msg) {
    JsonObject e = msg.body();
    long chat = e.getLong("chat");
    Future<Void> f;
    switch (e.getString("type", "")) {
      case "blocked":
        f = store.markBlocked(chat, e.getString("reason"));
        break;
      case "migrated":
        f = store.migrated(chat, e.getLong("to"));
        break;
      default:
        return;
    }
    f.onFailure(err -> LOG.warn("chat {}: could not record that it is {}: {}", chat, e.getString("type"), err.getMessage()));
  }

  static boolean redisDown(Throwable err) {
    for (Throwable t = err; t != null; t = t.getCause()) {
      if (t instanceof RedisUnavailableException) {
        return true;
      }
    }
    return false;
  }

  private static String kind(Incoming in) {
    return in.intent().getClass().getSimpleName().toLowerCase(java.util.Locale.ROOT);
  }
}
