package io.qwenedit.bot;

import io.micrometer.core.instrument.MeterRegistry;
import io.qwenedit.config.Config;
import io.qwenedit.health.Health;
import io.qwenedit.metrics.JobMetrics;
import io.qwenedit.metrics.Meters;
import io.qwenedit.queue.Backoff;
import io.qwenedit.redis.RedisCommands;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.Status;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Webhook mode: an HTTP endpoint Telegram posts updates to. Every request must carry the secret token header
 * ({@code X-Telegram-Bot-Api-Secret-Token}, compared in constant time; 401 otherwise). An update is answered 200 once
 * {@link TelegramBotVerticle} has handled it, so Telegram re-sends it if this instance died first; ids already
 * handled are skipped. Registers the webhook with Telegram at start (retried until it works).
 */
public final class TelegramWebhookVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(TelegramWebhookVerticle.class);
  static final String HEALTH = "bot/webhook";
  static final String SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token";
  private static final long MAX_BODY = 1 << 20;
  private static final long HANDLE_LIMIT_MS = 60_000;

  private final Config config;
  private HttpServer server;
  private RedisCommands redis;
  private BotStore store;
  private TelegramClient telegram;
  private MeterRegistry meters;
  private byte[] secret;
  private volatile boolean registered;
  private volatile long lastUpdateAt;
  private long retryTimer = -1;
  private int registerAttempts;

  public TelegramWebhookVerticle(Config config) {
    this.config = config;
  }

  @Override
  public Future<?> start() {
    meters = Meters.registry(vertx);
    secret = config.bot().webhookSecret().getBytes(StandardCharsets.UTF_8);
    redis = new RedisCommands(vertx, config.redis(), "bot-webhook");
    store = new BotStore(redis, config);
    telegram = new TelegramClient(vertx, config.bot(), JobMetrics.of(vertx), 2, config.bot().httpTimeout().toMillis());
    server = vertx.createHttpServer(new HttpServerOptions().setHost(config.bot().webhookHost()).setPort(config.bot().webhookPort()))
        .requestHandler(this::onRequest);
    Health.of(vertx).readiness().register(HEALTH, 2_000, p -> p.complete(
        (registered ? Status.OK() : Status.KO()).setData(new JsonObject().put("registered", registered)
            .put("port", server.actualPort()).put("last_update_age_s",
                lastUpdateAt == 0 ? null : (System.currentTimeMillis() - lastUpdateAt) / 1000.0))));
    return server.listen().onSuccess(s -> {
      LOG.info("webhook listening on {}:{}{}", config.bot().webhookHost(), s.actualPort(), config.bot().webhookPath());
      register();
    });
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(retryTimer);
    Health.of(vertx).readiness().unregister(HEALTH);
    telegram.close();
    return server.close().eventually(redis::close);
  }

  public int port() {
    return server.actualPort();
  }

  /** setWebhook with the secret and the update types, retried with back-off until Telegram accepts it. */
  private void register() {
    JsonObject p = new JsonObject().put("url", config.bot().webhookUrl().toString())
        .put("secret_token", config.bot().webhookSecret()).put("allowed_updates", Incoming.ALLOWED_UPDATES)
        .put("max_connections", 40).put("drop_pending_updates", false);
    telegram.call("setWebhook", p).onSuccess(r -> {
      registered = true;
      LOG.info("webhook registered with Telegram: {}", config.bot().webhookUrl().getHost());
    }).onFailure(err -> {
      registerAttempts++;
      long delay = err instanceof TelegramApiException t && t.floodWait() ? Math.max(1, t.retryAfter()) * 1000L
          : Backoff.delay(registerAttempts, Duration.ofSeconds(1), config.bot().backoffMax(),
              ThreadLocalRandom.current()::nextDouble).toMillis();
      LOG.warn("webhook not registered ({}); retrying in {} ms", err.getMessage(), delay);
      retryTimer = vertx.setTimer(Math.max(1, delay), t -> register());
    });
  }

  private void onRequest(HttpServerRequest req) {
    if (req.method() != HttpMethod.POST || !config.bot().webhookPath().equals(req.path())) {
      req.response().setStatusCode(404).end();
      return;
    }
    String given = req.getHeader(SECRET_HEADER);
    if (given == null || !MessageDigest.isEqual(secret, given.getBytes(StandardCharsets.UTF_8))) {
      meters.counter("qwenedit.telegram.webhook.rejected").increment();
      req.response().setStatusCode(401).end();
      return;
    }
    req.body().onComplete(ar -> {
      if (ar.failed() || ar.result().length() > MAX_BODY) {
        req.response().setStatusCode(400).end();
        return;
      }
      JsonObject update;
      try {
        update = ar.result().toJsonObject();
      } catch (RuntimeException e) {
        req.response().setStatusCode(400).end();
        return;
      }
      Object id = update.getValue("update_id");
      if (!(id instanceof Number n)) {
        req.response().setStatusCode(400).end();
        return;
      }
      lastUpdateAt = System.currentTimeMillis();
      handle(update, n.longValue()).onComplete(h -> {
        if (h.succeeded()) {
          req.response().setStatusCode(200).putHeader("Content-Type", "application/json").end(Buffer.buffer("{}"));
        } else {
          // Telegram will send it again.
          req.response().setStatusCode(503).end();
        }
      });
    });
  }

  private Future<Void> handle(JsonObject update, long id) {
    return store.seen(List.of(id)).otherwise(err -> Set.of()).compose(seen -> {
      if (seen.contains(id)) {
        return Future.succeededFuture();
      }
      return vertx.eventBus().request(BotAddresses.UPDATE, update,
              new DeliveryOptions().setLocalOnly(true).setSendTimeout(HANDLE_LIMIT_MS))
          .recover(err -> err instanceof ReplyException re && re.failureType() == ReplyFailure.TIMEOUT
              ? Future.succeededFuture() : Future.failedFuture(err))
          .compose(v -> store.markSeen(List.of(id)).otherwiseEmpty());
    });
  }
}
