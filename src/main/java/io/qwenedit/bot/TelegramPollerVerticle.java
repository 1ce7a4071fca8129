package io.qwenedit.bot;

import io.micrometer.core.instrument.MeterRegistry;
import io.qwenedit.config.Config;
import io.qwenedit.health.Health;
import io.qwenedit.metrics.JobMetrics;
import io.qwenedit.metrics.Meters;
import io.qwenedit.queue.Backoff;
import io.qwenedit.redis.RedisCommands;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.Status;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Long polling done the way the fact sheet says: deleteWebhook first; getUpdates with a long timeout, an HTTP read
 * limit longer than it, and an explicit list of update types; updates already handled are skipped; each batch is
 * handed to {@link TelegramBotVerticle} and the offset saved in Redis only once every update in it was handled.
 * Network errors and 5xx back off exponentially (capped, jittered), 429 waits {@code retry_after}, 409 (someone else
 * polls this token) is logged once per episode and backed off at least 3 s, 401 stops polling and fails readiness.
 * Runs only on the active instance ({@link BotLeaderVerticle}); readiness {@code bot/poll} reports the age of the last
 * successful getUpdates.
 */
public final class TelegramPollerVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(TelegramPollerVerticle.class);
  static final String HEALTH = "bot/poll";
  private static final long CONFLICT_BACKOFF_MS = 3_000;
  private static final long UNAUTHORIZED_RETRY_MS = 300_000;
  /** How long a batch may take to be handled before the poller moves on (the handler keeps going regardless). */
  private static final long HANDLE_LIMIT_MS = 120_000;

  private final Config config;
  private TelegramClient telegram;
  private RedisCommands redis;
  private BotStore store;
  private MeterRegistry meters;
  private Long offset;
  private boolean offsetLoaded;
  private boolean webhookDeleted;
  private boolean stopped;
  private long retryTimer = -1;
  private Promise<Void> loopEnded;
  private volatile long lastSuccessAt;
  private volatile long startedAt;
  private volatile int failuresInRow;
  private volatile boolean conflicting;
  private volatile boolean unauthorized;
  private volatile String lastError;
  private boolean unsavedOffset;

  public TelegramPollerVerticle(Config config) {
    this.config = config;
  }

  @Override
  public Future<?> start() {
    meters = Meters.registry(vertx);
    long readLimit = config.bot().pollTimeout().toMillis() + config.bot().pollGrace().toMillis();
    telegram = new TelegramClient(vertx, config.bot(), JobMetrics.of(vertx), 2, readLimit);
    redis = new RedisCommands(vertx, config.redis(), "bot-poller");
    store = new BotStore(redis, config);
    startedAt = System.currentTimeMillis();
    Health.of(vertx).readiness().register(HEALTH, 2_000, p -> p.complete(health()));
    loopEnded = Promise.promise();
    vertx.runOnContext(v -> loop());
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    stopped = true;
    if (vertx.cancelTimer(retryTimer)) {
      loopEnded.tryComplete(); // it was waiting to retry: nothing in flight
    }
    Health.of(vertx).readiness().unregister(HEALTH);
    // Closing the client aborts a long poll in flight; the batch being handled (if any) finishes and saves its offset.
    telegram.close();
    Future<Void> saved = unsavedOffset && offset != null ? store.saveProgress(offset, List.of()).otherwiseEmpty()
        : Future.succeededFuture();
    return loopEnded.future().timeout(HANDLE_LIMIT_MS, java.util.concurrent.TimeUnit.MILLISECONDS).otherwiseEmpty()
        .compose(v -> saved).eventually(redis::close);
  }

  private Status health() {
    long now = System.currentTimeMillis();
    long since = lastSuccessAt > 0 ? lastSuccessAt : startedAt;
    double age = (now - since) / 1000.0;
    long limit = config.bot().pollTimeout().toMillis() + config.bot().pollGrace().toMillis() + 10_000;
    JsonObject data = new JsonObject().put("last_poll_age_s", age).put("offset", offset)
        .put("failures_in_row", failuresInRow).put("conflict", conflicting);
    if (lastError != null) {
      data.put("last_error", lastError);
    }
    if (unauthorized) {
      return Status.KO(data.put("reason", "Telegram refused the token (401): check TELEGRAM_BOT_TOKEN"));
    }
    return now - since <= limit ? Status.OK(data) : Status.KO(data.put("reason", "no successful getUpdates for " + age + " s"));
  }

  private void loop() {
    if (stopped) {
      loopEnded.tryComplete();
      return;
    }
    prepare().compose(v -> poll()).compose(this::handle).onComplete(ar -> {
      if (stopped) {
        loopEnded.tryComplete();
        return;
      }
      if (ar.succeeded()) {
        loop();
      } else {
        retryAfterFailure(ar.cause());
      }
    });
  }

  /** Once per start: no webhook (getUpdates would get 409), and the offset saved by the last active instance. */
  private Future<Void> prepare() {
    Future<Void> hook = webhookDeleted ? Future.succeededFuture()
        : telegram.call("deleteWebhook", new JsonObject().put("drop_pending_updates", false)).map(r -> {
          webhookDeleted = true;
          return null;
        });
    return hook.compose(v -> {
      if (offsetLoaded) {
        return Future.succeededFuture();
      }
      return store.offset().map(saved -> {
        offsetLoaded = true;
        if (saved != null && (offset == null || saved > offset)) {
          offset = saved;
        }
        return (Void) null;
      }).otherwise(err -> {
        // Without Redis Telegram still knows: with no offset it sends the earliest unconfirmed updates.
        LOG.warn("poller: saved offset not readable ({}); continuing from Telegram's own position", err.getMessage());
        offsetLoaded = true;
        return null;
      });
    });
  }

  private Future<JsonArray> poll() {
    JsonObject params = new JsonObject().put("timeout", config.bot().pollTimeout().toSeconds()).put("limit", 100)
        .put("allowed_updates", Incoming.ALLOWED_UPDATES);
    if (offset != null) {
      params.put("offset", offset);
    }
    long readLimit = config.bot().pollTimeout().toMillis() + config.bot().pollGrace().toMillis();
    return telegram.call("getUpdates", params, readLimit).map(r -> {
      succeeded();
      return r instanceof JsonArray a ? a : new JsonArray();
    });
  }

  private void succeeded() {
    lastSuccessAt = System.currentTimeMillis();
    if (failuresInRow > 0 || conflicting || unauthorized) {
      LOG.info("poller: getUpdates works again after {} failed attempt(s)", failuresInRow);
    }
    failuresInRow = 0;
    conflicting = false;
    unauthorized = false;
    lastError = null;
  }

  /** Hands the batch over, waits until every update was handled, then moves and saves the offset. */
  private Future<Void> handle(JsonArray updates) {
    if (updates.isEmpty()) {
      return Future.succeededFuture();
    }
    List<JsonObject> batch = new ArrayList<>();
    List<Long> ids = new ArrayList<>();
    long maxId = offset == null ? Long.MIN_VALUE : offset - 1;
    for (Object o : updates) {
      if (o instanceof JsonObject u && u.getValue("update_id") instanceof Number n) {
        batch.add(u);
        ids.add(n.longValue());
        maxId = Math.max(maxId, n.longValue());
      }
    }
    long next = maxId + 1;
    return store.seen(ids).otherwise(err -> Set.of()).compose(seen -> {
      List<Future<?>> handled = new ArrayList<>();
      List<Long> fresh = new ArrayList<>();
      for (JsonObject u : batch) {
        long id = u.getLong("update_id");
        if (seen.contains(id)) {
          LOG.info("poller: update {} was already handled; skipped", id);
          continue;
        }
        fresh.add(id);
        handled.add(vertx.eventBus().request(BotAddresses.UPDATE, u,
            new DeliveryOptions().setLocalOnly(true).setSendTimeout(HANDLE_LIMIT_MS)));
      }
      return Future.join(handled).transform(ar -> {
        boolean noHandler = handled.stream().anyMatch(f -> f.failed() && f.cause() instanceof ReplyException re
            && re.failureType() == ReplyFailure.NO_HANDLERS);
        if (noHandler) {
          // Shutting down (the handler is gone): these updates were not handled, so the offset stays before them.
          return Future.failedFuture(ar.cause());
        }
        if (ar.failed()) {
          LOG.warn("poller: an update was not handled within {} s ({}); moving on", HANDLE_LIMIT_MS / 1000,
              ar.cause().getMessage());
        }
        offset = next;
        return store.saveProgress(next, fresh).map(v -> {
          unsavedOffset = false;
          return (Void) null;
        }).otherwise(err -> {
          // Telegram confirms by our next poll anyway; Redis learns the offset with the next batch.
          unsavedOffset = true;
          return null;
        });
      });
    });
  }

  private void retryAfterFailure(Throwable err) {
    TelegramApiException e = err instanceof TelegramApiException t ? t : TelegramApiException.network(String.valueOf(err.getMessage()));
    failuresInRow++;
    lastError = e.getMessage();
    long delay;
    if (e.conflict()) {
      if (e.description().contains("webhook")) {
        webhookDeleted = false; // someone set a webhook: delete it again before the next poll
      }
      if (!conflicting) {
        conflicting = true;
        LOG.warn("poller: Telegram says another program polls this bot's token ({}). Only one may: stop the other one "
            + "(an old bot, a second deployment with another Redis). Backing off.", e.description());
      }
      delay = CONFLICT_BACKOFF_MS + ThreadLocalRandom.current().nextLong(CONFLICT_BACKOFF_MS);
    } else if (e.unauthorized()) {
      if (!unauthorized) {
        unauthorized = true;
        LOG.error("poller: Telegram refuses the bot token (401 {}). Check TELEGRAM_BOT_TOKEN; polling stops "
            + "(retried every {} min).", e.description(), UNAUTHORIZED_RETRY_MS / 60_000);
      }
      delay = UNAUTHORIZED_RETRY_MS;
    } else if (e.floodWait()) {
      delay = Math.max(1, e.retryAfter()) * 1000L;
      LOG.warn("poller: Telegram asks to wait {} s before polling again", delay / 1000);
    } else {
      delay = Backoff.delay(failuresInRow, Duration.ofSeconds(1), config.bot().backoffMax(),
          ThreadLocalRandom.current()::nextDouble).toMillis();
      if (failuresInRow == 1 || failuresInRow % 10 == 0) {
        LOG.warn("poller: polling Telegram failed ({} in a row): {}; retrying in {} ms", failuresInRow, e.getMessage(), delay);
      }
    }
    meters.counter("qwenedit.telegram.poll.failures", "code", e.metricCode()).increment();
    retryTimer = vertx.setTimer(Math.max(1, delay), t -> loop());
  }
}
