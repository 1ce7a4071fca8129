package io.qwenedit.bot;

import io.micrometer.core.instrument.Gauge;
import io.qwenedit.metrics.JobMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import io.qwenedit.config.BotConfig;
import io.qwenedit.metrics.Meters;
import io.qwenedit.queue.Backoff;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every message the bot sends goes through here ({@link BotAddresses#SEND}, used via {@link Outbox}). It keeps
 * Telegram's limits (per chat and global, {@link SendScheduler}), obeys {@code retry_after} on 429, retries network
 * errors and 5xx with back-off, follows {@code migrate_to_chat_id}, treats "message is not modified" as success, and on
 * 403 drops everything waiting for that chat and announces it ({@link BotAddresses#CHAT_EVENT}). One failed call never
 * stops the others.
 */
public final class TelegramSenderVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(TelegramSenderVerticle.class);
  private static final int MAX_TRANSIENT_ATTEMPTS = 8;
  private static final int CONCURRENCY = 16;

  /** One queued call and everyone waiting for its answer (merged edits share one call). */
  private static final class OutgoingCall {
    final String method;
    JsonObject params;
    final JsonObject upload;
    final long deadlineMs;
    final List<Message<JsonObject>> waiters = new ArrayList<>();
    int transientAttempts;

    OutgoingCall(String method, JsonObject params, JsonObject upload, long deadlineMs) {
      this.method = method;
      this.params = params;
      this.upload = upload;
      this.deadlineMs = deadlineMs;
    }
  }

  private final BotConfig cfg;
  private TelegramClient client;
  private SendScheduler<OutgoingCall> scheduler;
  private MessageConsumer<JsonObject> consumer;
  private MeterRegistry meters;
  private Gauge queueGauge;
  private long pumpTimer = -1;
  private long pumpAt = Long.MAX_VALUE;
  private int inFlight;
  private boolean stopped;

  public TelegramSenderVerticle(BotConfig cfg) {
    this.cfg = cfg;
  }

  @Override
  public Future<?> start() {
    meters = Meters.registry(vertx);
    client = new TelegramClient(vertx, cfg, JobMetrics.of(vertx), CONCURRENCY, cfg.httpTimeout().toMillis());
    scheduler = new SendScheduler<>(cfg.chatInterval().toMillis(), cfg.globalRate(), now());
    queueGauge = Gauge.builder("qwenedit.telegram.send.queue", scheduler, SendScheduler::queued)
        .description("Bot API calls waiting for their turn (rate limits, retry_after, back-off)").register(meters);
    consumer = vertx.eventBus().<JsonObject>localConsumer(BotAddresses.SEND, this::accept);
    return consumer.completion();
  }

  @Override
  public Future<?> stop() {
    stopped = true;
    vertx.cancelTimer(pumpTimer);
    meters.remove(queueGauge);
    // Whoever waits for a call that will not be made now learns it at once (and retries it later if it matters).
    JsonObject gone = TelegramApiException.network("the bot is stopping").toJson();
    scheduler.drainAll().forEach(c -> answer(c, gone));
    client.close(); // calls in flight fail, and are answered the same way
    return consumer.unregister();
  }

  private long now() {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime());
  }

  private void accept(Message<JsonObject> msg) {
    JsonObject body = msg.body();
    JsonObject params = body.getJsonObject("params", new JsonObject());
    long patience = body.getLong("patience_ms", Outbox.REPLY_PATIENCE.toMillis());
    OutgoingCall call = new OutgoingCall(body.getString("method"), params, body.getJsonObject("upload"), now() + patience);
    call.waiters.add(msg);
    long chat = chatOf(params);
    OutgoingCall existing = scheduler.add(chat, call, body.getString("coalesce"), now());
    if (existing != null) {
      // A newer edit of a message whose previous edit has not gone yet: send only the newest text.
      existing.params = params;
      existing.waiters.add(msg);
    }
    pump();
  }

  private static String where(long chat) {
    return chat == SendScheduler.NO_CHAT ? "" : " to chat " + chat;
  }

  private static long chatOf(JsonObject params) {
    Object chat = params.getValue("chat_id");
    if (chat instanceof Number n) {
      return n.longValue();
    }
    return SendScheduler.NO_CHAT;
  }

  /** Starts every call that may go now; otherwise sleeps until the earliest one may. */
  private void pump() {
    if (stopped) {
      return;
    }
    while (inFlight < CONCURRENCY) {
      long t = now();
      SendScheduler.Next<OutgoingCall> next = scheduler.next(t);
      if (next.call() == null) {
        if (next.waitMs() >= 0) {
          wakeAt(t + next.waitMs());
        }
        return;
      }
      inFlight++;
      execute(next.chatId(), next.call());
    }
  }

  private void wakeAt(long atMs) {
    if (pumpTimer >= 0 && pumpAt <= atMs) {
      return;
    }
    vertx.cancelTimer(pumpTimer);
    pumpAt = atMs;
    pumpTimer = vertx.setTimer(Math.max(1, atMs - now()), id -> {
      pumpTimer = -1;
      pumpAt = Long.MAX_VALUE;
      pump();
    });
  }

  private void execute(long chat, OutgoingCall call) {
    Future<Object> sent;
    if (call.upload != null) {
      Buffer data = call.upload.getBuffer("data");
      sent = client.upload(call.method, call.params, call.upload.getString("field"), call.upload.getString("name"),
          call.upload.getString("type"), data);
    } else {
      sent = client.call(call.method, call.params);
    }
    sent.onComplete(ar -> {
      inFlight--;
      if (stopped) {
        answer(call, TelegramApiException.network("the bot is stopping").toJson());
        return;
      }
      try {
        if (ar.succeeded()) {
          succeeded(call, ar.result());
        } else {
          failed(chat, call, ar.cause());
        }
      } catch (RuntimeException e) {
        LOG.error("sender: unexpected error after {}{}", call.method, where(chat), e);
        answer(call, TelegramApiException.network("internal error: " + e.getMessage()).toJson());
      } finally {
        scheduler.done(chat, now());
        pump();
      }
    });
  }

  private void succeeded(OutgoingCall call, Object result) {
    if (call.method.startsWith("send") || call.method.startsWith("edit")) {
      JobMetrics.of(vertx).messageSent();
    }
    answer(call, new JsonObject().put("ok", true).put("result", result instanceof JsonObject ? result : new JsonObject()));
  }

  private void failed(long chat, OutgoingCall call, Throwable err) {
    TelegramApiException e = err instanceof TelegramApiException t ? t : TelegramApiException.network(String.valueOf(err.getMessage()));
    long t = now();
    if (e.notModified()) {
      answer(call, new JsonObject().put("ok", true).put("result", new JsonObject()));
      return;
    }
    if (e.floodWait()) {
      long waitMs = Math.max(1, e.retryAfter()) * 1000L;
      retried("429");
      if (t + waitMs > call.deadlineMs) {
        LOG.warn("sender: {}{} given up: Telegram asks to wait {} s, past its time limit", call.method, where(chat), waitMs / 1000);
        answer(call, e.toJson());
        return;
      }
      LOG.info("sender: Telegram asked to wait {} s before sending{} again", waitMs / 1000, where(chat));
      scheduler.pause(chat, t + waitMs, t);
      scheduler.addFirst(chat, call, t);
      return;
    }
    if (e.migrateToChatId() != null) {
      long to = e.migrateToChatId();
      LOG.info("sender: chat {} became supergroup {}; sending there", chat, to);
      vertx.eventBus().publish(BotAddresses.CHAT_EVENT, new JsonObject().put("type", "migrated").put("chat", chat).put("to", to));
      call.params = call.params.copy().put("chat_id", to);
      scheduler.add(to, call, null, t);
      return;
    }
    if (e.forbidden()) {
      List<OutgoingCall> dropped = scheduler.drain(chat);
      LOG.info("sender: chat {} refuses messages ({}); {} waiting message(s) dropped", chat, e.description(), dropped.size());
      vertx.eventBus().publish(BotAddresses.CHAT_EVENT, new JsonObject().put("type", "blocked").put("chat", chat)
          .put("reason", e.description()));
      answer(call, e.toJson());
      dropped.forEach(d -> answer(d, e.toJson()));
      return;
    }
    if (e.transientFailure()) {
      call.transientAttempts++;
      long delay = Backoff.delay(call.transientAttempts, Duration.ofSeconds(1), cfg.backoffMax(),
          ThreadLocalRandom.current()::nextDouble).toMillis();
      retried(e.metricCode());
      if (call.transientAttempts >= MAX_TRANSIENT_ATTEMPTS || t + delay > call.deadlineMs) {
        LOG.warn("sender: {}{} given up after {} attempt(s): {}", call.method, where(chat), call.transientAttempts, e.getMessage());
        answer(call, e.toJson());
        return;
      }
      if (call.transientAttempts == 1) {
        LOG.info("sender: {}{} failed ({}); retrying with back-off", call.method, where(chat), e.getMessage());
      }
      scheduler.pause(chat, t + delay, t);
      scheduler.addFirst(chat, call, t);
      return;
    }
    if (!e.messageGone()) {
      LOG.warn("sender: {}{} refused: {}", call.method, where(chat), e.getMessage());
    }
    answer(call, e.toJson());
  }

  private void retried(String reason) {
    meters.counter("qwenedit.telegram.send.retries", "reason", reason).increment();
  }

  private static void answer(OutgoingCall call, JsonObject reply) {
    call.waiters.forEach(w -> w.reply(reply));
  }
}
