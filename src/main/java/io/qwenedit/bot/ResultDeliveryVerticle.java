package io.qwenedit.bot;

import io.micrometer.core.instrument.MeterRegistry;
import io.qwenedit.config.Config;
import io.qwenedit.health.Health;
import io.qwenedit.metrics.Meters;
import io.qwenedit.queue.Backoff;
import io.qwenedit.queue.ImageInfo;
import io.qwenedit.queue.Job;
import io.qwenedit.queue.JobQueue;
import io.qwenedit.queue.Keys;
import io.qwenedit.redis.BlockingRedis;
import io.qwenedit.redis.RedisCommands;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.Status;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers every Telegram job's outcome exactly once, from the durable record: the queue's outcome stream
 * ({@code <prefix>{q}:outcomes}), read with a consumer group. New entries come through a blocking XREADGROUP on a
 * guarded connection of its own; entries read but not acknowledged (a failed send, a crash, an instance that died)
 * are read again: this consumer's own every few seconds, other consumers' once they have been idle longer than two
 * lease periods (XAUTOCLAIM). Before sending, a mark in the job record says who is sending (renewed while the send
 * lasts); after sending, a mark says it was delivered, and only then is the entry acknowledged. A crash between the
 * send and the "delivered" mark is the one window where a person could get a result twice; a crash after it never
 * repeats a send. Runs on the active instance.
 */
public final class ResultDeliveryVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(ResultDeliveryVerticle.class);
  static final String HEALTH = "bot/delivery";
  private static final long BLOCK_MS = 5_000;
  private static final long PENDING_EVERY_MAX_MS = 10_000;
  private static final int RECONCILE_BATCH = 200;
  private static final int BATCH = 20;
  private static final int MAX_IN_FLIGHT = 32;
  private static final Duration SENDING_MARK = Duration.ofSeconds(60);
  private static final long MARK_RENEW_MS = 20_000;
  private static final long CONSUMER_CLEANUP_MS = 600_000;
  private static final long CONSUMER_MAX_IDLE_MS = 3_600_000;
  /** Back-off after a failed read: 100-200 ms after the first failure, doubling, at most 5 s. */
  private static final Duration RETRY_BASE = Duration.ofMillis(200);
  private static final Duration RETRY_MAX = Duration.ofSeconds(5);

  /** What happened to one outcome: acknowledge it, or leave it pending to be tried again. */
  private enum Result { ACK, RETRY }

  private final Config config;
  private final String consumer;
  private String botId;
  private RedisCommands redis;
  private BlockingRedis blocking;
  private JobQueue queue;
  private Keys keys;
  private BotStore store;
  private Outbox outbox;
  private MeterRegistry meters;
  private String group;
  private boolean stopped;
  private boolean groupReady;
  private long lastPendingPass;
  private long lastCleanup;
  private volatile long lastCycleAt;
  private volatile int failuresInRow;
  private volatile String lastError;
  private final Set<String> inFlight = new HashSet<>();
  /** Jobs whose delivery this instance has under way (from the stream or the reconcile pass): never two at once. */
  private final Set<String> delivering = new HashSet<>();
  private long lastReconcile;
  /** Deliveries the reconcile pass has under way (they count towards MAX_IN_FLIGHT with the stream's). */
  private int reconciling;
  /** Jobs whose outcome reached Telegram but whose "delivered" mark could not be written yet (Redis trouble). */
  private final Set<String> sentUnmarked = new HashSet<>();
  private Promise<Void> loopEnded;
  private long retryTimer = -1;

  public ResultDeliveryVerticle(Config config, String instanceId) {
    this.config = config;
    this.consumer = instanceId;
  }

  @Override
  public Future<?> start() {
    meters = Meters.registry(vertx);
    redis = new RedisCommands(vertx, config.redis(), "bot-delivery");
    blocking = new BlockingRedis(vertx, config.redis(), "bot-outcomes", config.queue().blockGrace().toMillis());
    queue = new JobQueue(redis, config.queue());
    keys = queue.keys();
    store = new BotStore(redis, config);
    botId = config.bot().botId();
    group = store.keys().consumerGroup();
    outbox = new Outbox(vertx);
    lastCycleAt = System.currentTimeMillis();
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
    // Closing the blocking client ends a parked XREADGROUP at once.
    return blocking.close()
        .compose(v -> loopEnded.future().timeout(BLOCK_MS * 2, TimeUnit.MILLISECONDS).otherwiseEmpty())
        .compose(v -> waitForDeliveries(10_000))
        .eventually(redis::close);
  }

  private Future<Void> waitForDeliveries(long limitMs) {
    if (inFlight.isEmpty() && reconciling == 0) {
      return Future.succeededFuture();
    }
    Promise<Void> p = Promise.promise();
    long deadline = System.currentTimeMillis() + limitMs;
    vertx.setPeriodic(50, t -> {
      // the reconcile pass's deliveries too: a send left running after stop could not write its "delivered" mark
      if ((inFlight.isEmpty() && reconciling == 0) || System.currentTimeMillis() > deadline) {
        vertx.cancelTimer(t);
        p.tryComplete();
      }
    });
    return p.future();
  }

  private Status health() {
    double age = (System.currentTimeMillis() - lastCycleAt) / 1000.0;
    JsonObject data = new JsonObject().put("last_cycle_age_s", age).put("in_flight", inFlight.size() + reconciling)
        .put("failures_in_row", failuresInRow);
    if (lastError != null) {
      data.put("last_error", lastError);
    }
    boolean ok = age * 1000 < BLOCK_MS + config.queue().blockGrace().toMillis() + pendingEveryMs() + 10_000;
    return ok ? Status.OK(data) : Status.KO(data);
  }

  // ------------------------------------------------------------------ the reading loop

  private void loop() {
    if (stopped) {
      loopEnded.tryComplete();
      return;
    }
    ensureGroup()
        .compose(v -> pendingPass())
        .compose(v -> reconcilePass())
        .compose(v -> readNew())
        .onComplete(ar -> {
          if (stopped) {
            loopEnded.tryComplete();
            return;
          }
          if (ar.succeeded()) {
            recovered();
            loop();
            return;
          }
          failuresInRow++;
          lastError = ar.cause().getMessage();
          if (String.valueOf(ar.cause().getMessage()).contains("NOGROUP")) {
            groupReady = false; // Redis lost the group (restarted without persistence): make it again
          }
          long delay = ar.cause() instanceof BlockingRedis.GuardTimeoutException ? 0
              : Backoff.delay(failuresInRow, RETRY_BASE, RETRY_MAX, ThreadLocalRandom.current()::nextDouble).toMillis();
          if (failuresInRow == 1 || failuresInRow % 20 == 0) {
            LOG.warn("delivery: reading outcomes failed ({} in a row): {}; retrying in {} ms", failuresInRow,
                ar.cause().getMessage(), delay);
          }
          lastPendingPass = 0; // after trouble, look at what is pending first
          retryTimer = vertx.setTimer(Math.max(1, delay), t -> loop());
        });
  }

  private void recovered() {
    lastCycleAt = System.currentTimeMillis();
    if (failuresInRow > 0) {
      LOG.info("delivery: reading outcomes works again after {} failed attempt(s)", failuresInRow);
      failuresInRow = 0;
      lastError = null;
    }
  }

  private Future<Void> ensureGroup() {
    if (groupReady) {
      return Future.succeededFuture();
    }
    // From "0": an outcome recorded before the group existed is delivered too (the marks make it idempotent).
    return redis.send(Command.XGROUP, "CREATE", keys.outcomes(), group, "0", "MKSTREAM").<Void>mapEmpty()
        .recover(err -> String.valueOf(err.getMessage()).startsWith("BUSYGROUP") ? Future.succeededFuture() : Future.failedFuture(err))
        .onSuccess(v -> groupReady = true);
  }

  /** How often unacknowledged entries are looked at again: at most 10 s, and no later than they can be taken over. */
  private long pendingEveryMs() {
    return Math.min(PENDING_EVERY_MAX_MS, config.bot().leaseTtl().toMillis() * 2);
  }

  /** Every few seconds: this consumer's unacknowledged entries, then abandoned ones of other consumers. */
  private Future<Void> pendingPass() {
    long now = System.currentTimeMillis();
    if (now - lastPendingPass < pendingEveryMs()) {
      return Future.succeededFuture();
    }
    lastPendingPass = now;
    long minIdle = config.bot().leaseTtl().toMillis() * 2;
    Future<Void> own = redis.send(Request.cmd(Command.XREADGROUP).arg("GROUP").arg(group).arg(consumer)
            .arg("COUNT").arg(100).arg("STREAMS").arg(keys.outcomes()).arg("0"))
        .map(r -> {
          process(streamEntries(r));
          return null;
        });
    return own.compose(v -> redis.send(Request.cmd(Command.XAUTOCLAIM).arg(keys.outcomes()).arg(group).arg(consumer)
            .arg(minIdle).arg("0-0").arg("COUNT").arg(100)))
        .map(r -> {
          List<Entry> claimed = entries(r == null ? null : r.get(1));
          if (!claimed.isEmpty()) {
            LOG.info("delivery: took over {} outcome(s) left unacknowledged by a stopped instance", claimed.size());
          }
          process(claimed);
          return (Void) null;
        })
        .compose(v -> cleanupConsumers(now));
  }

  /**
   * Every few pending passes: the bot's tracked jobs ({@code tg:jobs}, removed once delivered) that finished a while
   * ago and are still not delivered. Their outcome entry may be gone from the stream (trimmed at EVENTS_MAX_LEN while
   * the bot could not deliver, e.g. down or refused by Telegram for hours): this delivers them anyway. The delivery
   * marks make it harmless when the stream's entry is delivered too.
   */
  private Future<Void> reconcilePass() {
    long now = System.currentTimeMillis();
    if (now - lastReconcile < 3 * pendingEveryMs()) {
      return Future.succeededFuture();
    }
    lastReconcile = now;
    long finishedBefore = now - 2 * pendingEveryMs();
    return store.trackedJobs(RECONCILE_BATCH).compose(ids -> queue.jobs(ids).map(jobs -> {
      // ids whose record is gone (expired): nothing left to deliver, and they would hold places in the window
      Set<String> found = new HashSet<>();
      jobs.forEach(j -> found.add(j.id()));
      ids.stream().filter(id -> !found.contains(id)).forEach(id -> store.jobFinished(null, id));
      int room = MAX_IN_FLIGHT - inFlight.size() - reconciling; // as many sends at once as the stream's reading allows
      for (Job job : jobs) {
        if (room <= 0) {
          break;
        }
        if (job.state().terminal() && job.finishedAt() != null && job.finishedAt() < finishedBefore
            && !delivering.contains(job.id())) {
          room--;
          reconciling++;
          deliverJob(job).onSuccess(r -> {
            if (r == Result.ACK) {
              LOG.info("job {}: outcome delivered by the reconcile pass (its stream entry was not)", job.id());
            }
          }).onFailure(err -> LOG.warn("job {}: reconcile delivery failed, will retry: {}", job.id(), err.getMessage()))
              .onComplete(x -> reconciling--);
        }
      }
      return (Void) null;
    })).otherwiseEmpty();
  }

  /** Forgets consumers of instances long gone that hold nothing (each restart adds one). */
  private Future<Void> cleanupConsumers(long now) {
    if (now - lastCleanup < CONSUMER_CLEANUP_MS) {
      return Future.succeededFuture();
    }
    lastCleanup = now;
    return redis.send(Command.XINFO, "CONSUMERS", keys.outcomes(), group).compose(r -> {
      List<Future<?>> dels = new ArrayList<>();
      for (Response c : r) {
        Map<String, String> info = Job.hash(c);
        String name = info.get("name");
        if (name != null && !name.equals(consumer) && "0".equals(info.get("pending"))
            && Long.parseLong(info.getOrDefault("idle", "0")) > CONSUMER_MAX_IDLE_MS) {
          dels.add(redis.send(Command.XGROUP, "DELCONSUMER", keys.outcomes(), group, name));
        }
      }
      return Future.join(dels).<Void>mapEmpty();
    }).otherwiseEmpty();
  }

  private Future<Void> readNew() {
    if (inFlight.size() + reconciling >= MAX_IN_FLIGHT) {
      // Enough sends in progress: wait a little instead of reading more.
      Promise<Void> p = Promise.promise();
      vertx.setTimer(200, t -> p.complete());
      return p.future();
    }
    Request read = Request.cmd(Command.XREADGROUP).arg("GROUP").arg(group).arg(consumer).arg("COUNT").arg(BATCH)
        .arg("BLOCK").arg(BLOCK_MS).arg("STREAMS").arg(keys.outcomes()).arg(">");
    return blocking.send(read, BLOCK_MS).map(r -> {
      process(streamEntries(r));
      return null;
    });
  }

  // ------------------------------------------------------------------ entries

  private record Entry(String entryId, String jobId, String state) {}

  /** Entries of an XREADGROUP answer ({@code [[stream, [[id, [f, v, ...]], ...]]]} or nil). */
  private static List<Entry> streamEntries(Response r) {
    if (r == null || r.size() == 0) {
      return List.of();
    }
    return entries(r.get(0).get(1));
  }

  private static List<Entry> entries(Response list) {
    List<Entry> out = new ArrayList<>();
    if (list == null) {
      return out;
    }
    for (Response e : list) {
      if (e == null || e.size() == 0 || e.get(0) == null) {
        // Redis 6.2's XAUTOCLAIM answers nil for an entry trimmed from the stream (7.0 leaves it out); it is now
        // ours and comes back with its id on our next history read, where it is acknowledged
        continue;
      }
      Map<String, String> fields = Job.hash(e.size() > 1 ? e.get(1) : null);
      out.add(new Entry(e.get(0).toString(), fields.get("id"), fields.get("state")));
    }
    return out;
  }

  private void process(List<Entry> entries) {
    for (Entry e : entries) {
      if (!inFlight.add(e.entryId())) {
        continue; // its delivery is still in progress
      }
      deliver(e).recover(err -> {
        LOG.warn("job {}: delivery failed, will retry: {}", e.jobId(), err.getMessage());
        return Future.succeededFuture(Result.RETRY);
      }).compose(result -> result == Result.ACK
          ? redis.send(Command.XACK, keys.outcomes(), group, e.entryId()).<Void>mapEmpty()
          : Future.<Void>succeededFuture())
          .onFailure(err -> LOG.warn("job {}: outcome not acknowledged yet ({}); it will be looked at again", e.jobId(), err.getMessage()))
          .onComplete(x -> inFlight.remove(e.entryId()));
    }
  }

  private Future<Result> deliver(Entry e) {
    if (e.jobId() == null) {
      // trimmed from the stream before it was delivered: the reconcile pass delivers its job from tg:jobs
      meters.counter("qwenedit.bot.outcomes.trimmed").increment();
      LOG.info("delivery: an outcome entry was trimmed from the stream before delivery; the reconcile pass covers it");
      return Future.succeededFuture(Result.ACK);
    }
    return queue.get(e.jobId()).compose(this::deliverJob);
  }

  /** Delivers a finished job's outcome once (the marks guard other instances, {@link #delivering} this one). */
  private Future<Result> deliverJob(Job job) {
    if (job == null || !Conversation.fromThisBot(job.source(), botId)) {
      return Future.succeededFuture(Result.ACK); // expired, or not this bot's
    }
    if (!delivering.add(job.id())) {
      return Future.succeededFuture(Result.RETRY); // under way here already
    }
    return deliverMarked(job).onComplete(x -> delivering.remove(job.id()));
  }

  private Future<Result> deliverMarked(Job job) {
    if (sentUnmarked.contains(job.id())) {
      return finish(job, job.source().getLong("user", 0L), "sent");
    }
    if (!job.state().terminal()) {
      // A dead-lettered job put back in line by an operator: its new outcome will come as a new entry.
      return Future.succeededFuture(Result.ACK);
    }
    return store.deliverBegin(job.id(), consumer, SENDING_MARK).compose(mark -> {
      switch (mark) {
        case "go":
          return sendOutcome(job);
        case "busy":
          return Future.succeededFuture(Result.RETRY);
        default:
          return Future.succeededFuture(Result.ACK); // done (delivered before) or missing (expired)
      }
    });
  }

  private Future<Result> sendOutcome(Job job) {
    JsonObject src = job.source();
    long userId = src.getLong("user", 0L);
    long renew = vertx.setPeriodic(MARK_RENEW_MS, t -> store.deliverBegin(job.id(), consumer, SENDING_MARK));
    return store.currentChat(src.getLong("chat")).compose(chat -> store.isBlocked(chat).compose(blocked -> {
      if (blocked) {
        LOG.info("job {}: chat {} blocked the bot; result not sent", job.id(), chat);
        return finish(job, userId, "blocked");
      }
      return present(job, chat, src).compose(v -> {
        LOG.info("job {}: {} delivered to chat {}", job.id(), job.state().wire(), chat);
        meters.counter("qwenedit.bot.deliveries", "outcome", job.state().wire(), "how", "sent").increment();
        sentUnmarked.add(job.id());
        return finish(job, userId, "sent");
      }, err -> {
        if (err instanceof TelegramApiException t && t.permanent()) {
          // Telegram will never take it (blocked, chat gone, bad request): marked, so it is not tried for ever.
          LOG.warn("job {}: outcome could not be delivered to chat {}: {}", job.id(), chat, t.getMessage());
          return finish(job, userId, t.forbidden() ? "blocked" : "refused");
        }
        return Future.failedFuture(err);
      });
    })).eventually(() -> {
      vertx.cancelTimer(renew);
      return Future.succeededFuture();
    });
  }

  private Future<Result> finish(Job job, long userId, String how) {
    if (!"sent".equals(how)) {
      meters.counter("qwenedit.bot.deliveries", "outcome", job.state().wire(), "how", how).increment();
    }
    return store.deliverEnd(job.id(), how)
        .onSuccess(v -> sentUnmarked.remove(job.id()))
        .compose(v -> store.jobFinished(userId == 0 ? null : userId, job.id()).otherwiseEmpty())
        .map(Result.ACK);
  }

  /** What the person gets: the picture (photo, or file when it does not fit), or the failure in plain words. */
  private Future<Void> present(Job job, long chat, JsonObject src) {
    String lang = src.getString("lang", config.bot().defaultLanguage());
    Long statusId = src.getLong("status_message");
    Long replyTo = src.getLong("message");
    String state = job.state().wire();
    switch (state) {
      case "succeeded":
        return sendResult(job, chat, lang, replyTo).compose(v -> finalStatus(chat, statusId, lang, state));
      case "cancelled":
        if (statusId == null) {
          return outbox.sendMessage(chat, Texts.get(lang, "cancel_done"), null, replyTo).mapEmpty();
        }
        return finalStatus(chat, statusId, lang, state);
      default: {
        String reason = Texts.get(lang, StatusText.reasonKey(state, job.error()));
        return outbox.sendMessage(chat, Texts.get(lang, "result_failed", "reason", reason), againButton(job, lang), replyTo)
            .compose(m -> finalStatus(chat, statusId, lang, state));
      }
    }
  }

  private Future<Void> sendResult(Job job, long chat, String lang, Long replyTo) {
    return sendPicture(job, chat, lang, replyTo).recover(err -> {
      if (err instanceof TelegramApiException t && t.permanent() && !t.forbidden()) {
        // Telegram will never take the picture here (no right to send media in this group, too large...): the person
        // is told in words, rather than left waiting; only if that fails too is the delivery given up
        LOG.warn("job {}: Telegram refused the result picture in chat {} ({}); telling the person instead", job.id(), chat,
            t.getMessage());
        return outbox.sendMessage(chat, Texts.get(lang, "result_refused", "reason", t.description()), null, replyTo)
            .mapEmpty();
      }
      return Future.failedFuture(err);
    });
  }

  private Future<Void> sendPicture(Job job, long chat, String lang, Long replyTo) {
    Future<Buffer> stored = job.resultRef() == null ? Future.succeededFuture() : queue.image(job.resultRef());
    return stored.compose(bytes -> {
      if (bytes == null) {
        return outbox.sendMessage(chat, Texts.get(lang, "result_expired", "hours", config.queue().retention().toHours()),
            againButton(job, lang), replyTo).mapEmpty();
      }
      ImageInfo info = ImageInfo.sniff(bytes);
      String ext = info == null ? "png" : info.extension();
      String mime = info == null ? "application/octet-stream" : info.contentType();
      String name = "edit-" + job.id() + "." + ext;
      String prompt = Conversation.shorten(job.prompt(), 900);
      if (info != null && StatusText.fitsPhoto(bytes.length(), info.width(), info.height())) {
        JsonObject buttons = Outbox.buttons(Texts.get(lang, "btn_again"), "a:" + job.id(), Texts.get(lang, "btn_file"), "f:" + job.id());
        return outbox.sendPhoto(chat, bytes, name, mime, StatusText.caption(Texts.get(lang, "result_caption", "prompt", prompt)),
                buttons, replyTo).<Void>mapEmpty()
            .recover(err -> {
              if (err instanceof TelegramApiException t && t.code() == 400 && !t.forbidden()) {
                // Telegram refused it as a photo after all (its own checks): the file always goes.
                return sendAsFile(job, chat, lang, replyTo, bytes, name, mime, prompt);
              }
              return Future.failedFuture(err);
            });
      }
      return sendAsFile(job, chat, lang, replyTo, bytes, name, mime, prompt);
    });
  }

  private Future<Void> sendAsFile(Job job, long chat, String lang, Long replyTo, Buffer bytes, String name, String mime, String prompt) {
    return outbox.sendDocument(chat, bytes, name, mime, StatusText.caption(Texts.get(lang, "result_document_note", "prompt", prompt)),
        againButton(job, lang), replyTo).mapEmpty();
  }

  /** "Again": the same picture and instruction, a new seed (see Conversation's callbacks). */
  private static JsonObject againButton(Job job, String lang) {
    return Outbox.buttons(Texts.get(lang, "btn_again"), "a:" + job.id());
  }

  private Future<Void> finalStatus(long chat, Long statusId, String lang, String state) {
    if (statusId == null) {
      return Future.succeededFuture();
    }
    // The outcome itself was delivered; a status message that cannot be edited any more does not matter.
    return outbox.editText(chat, statusId, StatusText.finalStatus(lang, state), null).<Void>mapEmpty().otherwiseEmpty();
  }

}
