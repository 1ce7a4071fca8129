package io.qwenedit.bot;

import io.qwenedit.config.Config;
import io.qwenedit.queue.Keys;
import io.qwenedit.redis.LuaScript;
import io.qwenedit.redis.RedisCommands;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The bot's state in Redis (conversation state, limits, bans, the poller's offset and lease, delivery marks), each
 * with a time-to-live or a bound: the process itself keeps nothing per person. Thin: one method per question.
 */
public final class BotStore {
  /** Telegram keeps undelivered updates 24 h; remembering handled ids as long covers every redelivery. */
  static final Duration SEEN_AGE = Duration.ofHours(24);
  static final int SEEN_MAX = 10_000;
  /** A person who blocked the bot is not written to for this long (unless they write first). */
  static final Duration BLOCKED_TTL = Duration.ofDays(30);
  static final Duration MIGRATED_TTL = Duration.ofDays(30);
  /** A reservation whose request never became a job (crash between admit and enqueue) frees itself after this. */
  static final Duration RESERVATION_STALE = Duration.ofMinutes(10);
  static final Duration ALBUM_TTL = Duration.ofMinutes(2);

  private static final LuaScript ADMIT = LuaScript.load("bot_admit");
  /** The leader lease is an owner-token lock with a time-to-live, exactly like a GPU's: the same script holds it. */
  private static final LuaScript LEASE = LuaScript.loadPlain("gpu_lock");
  private static final LuaScript DELIVER_BEGIN = LuaScript.load("bot_deliver_begin");
  private static final LuaScript DELIVER_END = LuaScript.load("bot_deliver_end");
  private static final DateTimeFormatter DAY = DateTimeFormatter.BASIC_ISO_DATE;

  /** After an attempt to hold the leader lease: whether we hold it, and who does ({@code owner}). */
  public record Lease(boolean held, String owner) {}

  /**
   * Outcome of an admission check: {@code ok}, {@code active} (limit reached) or {@code quota}; {@code quotaDay} is
   * the day whose quota counted the request (a refund goes back to that day, even after midnight).
   */
  public record Admission(String status, long count, boolean counted, String quotaDay) {}

  private final RedisCommands redis;
  private final BotKeys keys;
  private final Keys queueKeys;
  /** How long the bot keeps a job id (a person's active set and last job, the tracked jobs): the retention plus an hour. */
  private final long keepJobIdsMs;

  public BotStore(RedisCommands redis, Config config) {
    this.redis = redis;
    this.keys = new BotKeys(config.redis().prefix(), config.bot().botId());
    this.queueKeys = new Keys(config.redis().prefix());
    this.keepJobIdsMs = config.queue().retention().plusHours(1).toMillis();
  }

  public BotKeys keys() {
    return keys;
  }

  // ------------------------------------------------------------------ poller

  /** The saved offset, or null when none was ever saved. */
  public Future<Long> offset() {
    return redis.send(Command.GET, keys.offset()).map(r -> r == null ? null : r.toLong());
  }

  /** Which of these update ids were already handled. */
  public Future<Set<Long>> seen(List<Long> updateIds) {
    if (updateIds.isEmpty()) {
      return Future.succeededFuture(Set.of());
    }
    Request r = Request.cmd(Command.ZMSCORE).arg(keys.seen());
    updateIds.forEach(r::arg);
    return redis.send(r).map(resp -> {
      Set<Long> out = new HashSet<>();
      for (int i = 0; i < updateIds.size(); i++) {
        if (resp.get(i) != null) {
          out.add(updateIds.get(i));
        }
      }
      return out;
    });
  }

  /** Records handled updates and the next offset, and trims the handled-ids set by age and count. */
  public Future<Void> saveProgress(long nextOffset, List<Long> handled) {
    List<Request> reqs = seenRequests(handled);
    reqs.add(Request.cmd(Command.SET).arg(keys.offset()).arg(nextOffset));
    return redis.batch(reqs).mapEmpty();
  }

  /** Records handled updates (webhook mode: there is no offset). */
  public Future<Void> markSeen(List<Long> handled) {
    return handled.isEmpty() ? Future.succeededFuture() : redis.batch(seenRequests(handled)).mapEmpty();
  }

  private List<Request> seenRequests(List<Long> handled) {
    long now = System.currentTimeMillis();
    List<Request> reqs = new ArrayList<>();
    if (!handled.isEmpty()) {
      Request zadd = Request.cmd(Command.ZADD).arg(keys.seen());
      handled.forEach(id -> zadd.arg(now).arg(id));
      reqs.add(zadd);
      reqs.add(Request.cmd(Command.ZREMRANGEBYSCORE).arg(keys.seen()).arg("-inf").arg(now - SEEN_AGE.toMillis()));
      reqs.add(Request.cmd(Command.ZREMRANGEBYRANK).arg(keys.seen()).arg(0).arg(-SEEN_MAX - 1));
    }
    return reqs;
  }

  /** Holds the leader lease (renews ours, or takes it when free); otherwise says who holds it. */
  public Future<Lease> holdLease(String owner, Duration ttl) {
    return redis.eval(LEASE, List.of(keys.leader()), List.of("acquire", owner, ttl.toMillis()))
        .map(r -> new Lease(r.get(0).toInteger() == 1, r.get(1).toString()));
  }

  public Future<Boolean> releaseLease(String owner) {
    return redis.eval(LEASE, List.of(keys.leader()), List.of("release", owner, 0)).map(r -> r.get(0).toInteger() == 1);
  }

  // ------------------------------------------------------------------ a person's conversation

  /** The photo waiting for its instruction ({@code {file_id, kind, chat, message, mime, size}}), or null. */
  public Future<JsonObject> pendingPhoto(long userId) {
    return redis.send(Command.GET, keys.pending(userId)).map(r -> r == null ? null : new JsonObject(r.toString()));
  }

  public Future<Void> setPendingPhoto(long userId, JsonObject photo, Duration ttl) {
    return redis.send(Command.SET, keys.pending(userId), photo.encode(), "PX", ttl.toMillis()).mapEmpty();
  }

  public Future<Void> clearPendingPhoto(long userId) {
    return redis.send(Command.DEL, keys.pending(userId)).mapEmpty();
  }

  public Future<String> lastJob(long userId) {
    return redis.send(Command.GET, keys.last(userId)).map(r -> r == null ? null : r.toString());
  }

  /** Checks the active-job limit and quota and reserves a slot for this request (idempotent per reservation). */
  public Future<Admission> admit(long userId, String reservation, int maxActive, int quota) {
    String day = LocalDate.now(ZoneOffset.UTC).format(DAY);
    return redis.eval(ADMIT, List.of(keys.active(userId), keys.quota(userId, day)),
            List.of(reservation, maxActive, quota, Duration.ofHours(48).toSeconds(), RESERVATION_STALE.toMillis(), keepJobIdsMs))
        .map(r -> new Admission(r.get(0).toString(), r.get(1).toLong(), r.get(2).toInteger() == 1, day));
  }

  /** The request became job {@code jobId}: it takes the reservation's place, and becomes the person's last job. */
  public Future<Void> commit(long userId, String reservation, String jobId) {
    long now = System.currentTimeMillis();
    return redis.batch(List.of(
        Request.cmd(Command.ZREM).arg(keys.active(userId)).arg(reservation),
        Request.cmd(Command.ZADD).arg(keys.active(userId)).arg(now).arg(jobId),
        Request.cmd(Command.PEXPIRE).arg(keys.active(userId)).arg(keepJobIdsMs),
        Request.cmd(Command.SET).arg(keys.last(userId)).arg(jobId).arg("PX").arg(keepJobIdsMs),
        Request.cmd(Command.ZADD).arg(keys.jobs()).arg(now).arg(jobId))).mapEmpty();
  }

  /**
   * The request was refused after admission: frees the slot and gives the quota back if it was counted, to the day
   * that counted it (a refund after midnight would otherwise create the next day's counter at -1, with no expiry).
   */
  public Future<Void> release(long userId, String reservation, Admission admission) {
    List<Request> reqs = new ArrayList<>();
    reqs.add(Request.cmd(Command.ZREM).arg(keys.active(userId)).arg(reservation));
    if (admission.counted()) {
      reqs.add(Request.cmd(Command.DECR).arg(keys.quota(userId, admission.quotaDay())));
    }
    return redis.batch(reqs).mapEmpty();
  }

  /** Ids in the person's active set (reservations left out). */
  public Future<List<String>> activeJobs(long userId) {
    return redis.send(Command.ZRANGE, keys.active(userId), 0, -1).map(r -> {
      List<String> out = new ArrayList<>();
      for (Response m : r) {
        if (!m.toString().startsWith("m:")) {
          out.add(m.toString());
        }
      }
      return out;
    });
  }

  /** The job's outcome was delivered (or it ended otherwise): it no longer counts against the person's limit. */
  public Future<Void> jobFinished(Long userId, String jobId) {
    List<Request> reqs = new ArrayList<>();
    reqs.add(Request.cmd(Command.ZREM).arg(keys.jobs()).arg(jobId));
    if (userId != null) {
      reqs.add(Request.cmd(Command.ZREM).arg(keys.active(userId)).arg(jobId));
    }
    return redis.batch(reqs).mapEmpty();
  }

  /**
   * The job ended but its outcome may not be delivered yet: it no longer counts against the person's limit, and stays
   * tracked (tg:jobs) until it is delivered.
   */
  public Future<Void> releaseActive(long userId, String jobId) {
    return redis.send(Command.ZREM, keys.active(userId), jobId).mapEmpty();
  }

  /** Telegram jobs not yet delivered, oldest first (at most {@code limit}); entries past the retention are dropped. */
  public Future<List<String>> trackedJobs(int limit) {
    long cutoff = System.currentTimeMillis() - keepJobIdsMs;
    return redis.batch(List.of(
            Request.cmd(Command.ZREMRANGEBYSCORE).arg(keys.jobs()).arg("-inf").arg(cutoff),
            Request.cmd(Command.ZRANGE).arg(keys.jobs()).arg(0).arg(limit - 1)))
        .map(rs -> {
          List<String> out = new ArrayList<>();
          rs.get(1).forEach(m -> out.add(m.toString()));
          return out;
        });
  }

  /** True for the first photo of an album seen (the rest of the album is not edited). */
  public Future<Boolean> firstOfAlbum(String mediaGroupId) {
    return redis.send(Command.SET, keys.album(mediaGroupId), "1", "NX", "PX", ALBUM_TTL.toMillis()).map(r -> r != null);
  }

  // ------------------------------------------------------------------ access

  /** What the bot must know before answering a person: banned? (Also clears "blocked": they just wrote to us.) */
  public Future<Boolean> arrived(long userId, long chatId) {
    return redis.batch(List.of(
        Request.cmd(Command.EXISTS).arg(keys.ban(userId)),
        Request.cmd(Command.DEL).arg(keys.blocked(chatId)))).map(rs -> rs.get(0).toInteger() == 1);
  }

  /** Banned by an admin (/ban)? Unlike {@link #arrived}, changes nothing. */
  public Future<Boolean> banned(long userId) {
    return redis.send(Command.EXISTS, keys.ban(userId)).map(r -> r.toInteger() == 1);
  }

  public Future<Void> ban(long userId) {
    return redis.send(Command.SET, keys.ban(userId), String.valueOf(System.currentTimeMillis())).mapEmpty();
  }

  public Future<Void> unban(long userId) {
    return redis.send(Command.DEL, keys.ban(userId)).mapEmpty();
  }

  public Future<Void> markBlocked(long chatId, String reason) {
    return redis.send(Command.SET, keys.blocked(chatId), reason == null ? "blocked" : reason, "PX", BLOCKED_TTL.toMillis())
        .mapEmpty();
  }

  public Future<Void> unblock(long chatId) {
    return redis.send(Command.DEL, keys.blocked(chatId)).mapEmpty();
  }

  public Future<Boolean> isBlocked(long chatId) {
    return redis.send(Command.EXISTS, keys.blocked(chatId)).map(r -> r.toInteger() == 1);
  }

  public Future<Void> migrated(long chatId, long newChatId) {
    return redis.send(Command.SET, keys.migrated(chatId), String.valueOf(newChatId), "PX", MIGRATED_TTL.toMillis()).mapEmpty();
  }

  /** Where a chat moved to (a group that became a supergroup), or the chat itself. */
  public Future<Long> currentChat(long chatId) {
    if (chatId > 0) {
      return Future.succeededFuture(chatId);
    }
    return redis.send(Command.GET, keys.migrated(chatId)).map(r -> r == null ? chatId : r.toLong());
  }

  // ------------------------------------------------------------------ delivery marks (fields of the job record)

  /** {@code go}, {@code done}, {@code busy} or {@code missing}; see bot_deliver_begin.lua. */
  public Future<String> deliverBegin(String jobId, String owner, Duration lease) {
    return redis.eval(DELIVER_BEGIN, List.of(queueKeys.job(jobId)), List.of(owner, lease.toMillis())).map(Response::toString);
  }

  public Future<Void> deliverEnd(String jobId, String how) {
    return redis.eval(DELIVER_END, List.of(queueKeys.job(jobId)), List.of(how)).mapEmpty();
  }
}
