package io.qwenedit.queue;

import io.qwenedit.redis.RedisCommands;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Live processes of one kind, each keeping an entry (JSON, with a time-to-live) alive and its id in an index; an id
 * whose entry expired is dropped from the index by the next reader. Workers: {@code <prefix>worker:<id>} in
 * {@code <prefix>workers}. Bot and API instances: {@code <prefix>service:<id>} in {@code <prefix>services}.
 */
public final class Registry {
  private final RedisCommands redis;
  private final String index;
  private final Function<String, String> entry;

  private Registry(RedisCommands redis, String index, Function<String, String> entry) {
    this.redis = redis;
    this.index = index;
    this.entry = entry;
  }

  /** The workers (their heartbeat verticles announce them). */
  public static Registry workers(RedisCommands redis, Keys keys) {
    return new Registry(redis, keys.workers(), keys::worker);
  }

  /** The bot and API instances (their {@code ServiceHeartbeatVerticle} announces them). */
  public static Registry services(RedisCommands redis, Keys keys) {
    return new Registry(redis, keys.services(), keys::service);
  }

  /**
   * Ids not announced for this long (or for their own entry's life, when longer) are dropped from the index by any
   * announcement: processes that ended without removing themselves (killed, crashed). Generous on purpose: instances
   * announce at different intervals (each with its own time-to-live) from hosts whose clocks differ a little, and
   * readers already skip ids whose entry has expired.
   */
  static final Duration PRUNE_AFTER = Duration.ofHours(1);

  /**
   * Writes this instance's entry (it expires after {@code ttl} unless announced again) and drops from the index the ids
   * not announced for {@link #PRUNE_AFTER}, which would otherwise stay in it for good.
   */
  public Future<Void> announce(String id, JsonObject info, Duration ttl) {
    long now = System.currentTimeMillis();
    long pruneBefore = now - Math.max(ttl.toMillis(), PRUNE_AFTER.toMillis());
    return redis.batch(List.of(
        Request.cmd(Command.SET).arg(entry.apply(id)).arg(info.encode()).arg("PX").arg(ttl.toMillis()),
        Request.cmd(Command.ZADD).arg(index).arg(now).arg(id),
        Request.cmd(Command.ZREMRANGEBYSCORE).arg(index).arg("-inf").arg("(" + pruneBefore))).mapEmpty();
  }

  public Future<Void> remove(String id) {
    return redis.batch(List.of(Request.cmd(Command.DEL).arg(entry.apply(id)),
        Request.cmd(Command.ZREM).arg(index).arg(id))).mapEmpty();
  }

  /** Live entries; ids whose entry has expired are removed from the index. */
  public Future<JsonArray> list() {
    return redis.send(Command.ZRANGE, index, 0, -1).compose(r -> {
      List<String> ids = JobQueue.strings(r);
      if (ids.isEmpty()) {
        return Future.succeededFuture(new JsonArray());
      }
      Request mget = Request.cmd(Command.MGET);
      ids.forEach(id -> mget.arg(entry.apply(id)));
      return redis.send(mget).compose(vals -> {
        JsonArray out = new JsonArray();
        List<String> stale = new ArrayList<>();
        for (int i = 0; i < ids.size(); i++) {
          Response v = vals.get(i);
          if (v == null) {
            stale.add(ids.get(i));
            continue;
          }
          try {
            out.add(new JsonObject(v.toString()).put("id", ids.get(i)));
          } catch (RuntimeException e) {
            out.add(new JsonObject().put("id", ids.get(i)).put("error", "unreadable entry"));
          }
        }
        if (stale.isEmpty()) {
          return Future.succeededFuture(out);
        }
        Request zrem = Request.cmd(Command.ZREM).arg(index);
        stale.forEach(zrem::arg);
        return redis.send(zrem).map(out);
      });
    });
  }
}
