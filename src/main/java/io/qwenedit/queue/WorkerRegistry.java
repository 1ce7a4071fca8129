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

/**
 * Live workers: each keeps {@code <prefix>worker:<id>} (JSON, with a time-to-live) alive and its id in the
 * {@code <prefix>workers} index; a worker whose entry expired is dropped from the index by the next reader.
 */
public final class WorkerRegistry {
  private final RedisCommands redis;
  private final Keys keys;

  public WorkerRegistry(RedisCommands redis, Keys keys) {
    this.redis = redis;
    this.keys = keys;
  }

  public Future<Void> announce(String workerId, JsonObject info, Duration ttl) {
    return redis.batch(List.of(
        Request.cmd(Command.SET).arg(keys.worker(workerId)).arg(info.encode()).arg("PX").arg(ttl.toMillis()),
        Request.cmd(Command.ZADD).arg(keys.workers()).arg(System.currentTimeMillis()).arg(workerId))).mapEmpty();
  }

  public Future<Void> remove(String workerId) {
    return redis.batch(List.of(Request.cmd(Command.DEL).arg(keys.worker(workerId)),
        Request.cmd(Command.ZREM).arg(keys.workers()).arg(workerId))).mapEmpty();
  }

  /** Live workers' entries; ids whose entry has expired are removed from the index. */
  public Future<JsonArray> list() {
    return redis.send(Command.ZRANGE, keys.workers(), 0, -1).compose(r -> {
      List<String> ids = JobQueue.strings(r);
      if (ids.isEmpty()) {
        return Future.succeededFuture(new JsonArray());
      }
      Request mget = Request.cmd(Command.MGET);
      ids.forEach(id -> mget.arg(keys.worker(id)));
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
        Request zrem = Request.cmd(Command.ZREM).arg(keys.workers());
        stale.forEach(zrem::arg);
        return redis.send(zrem).map(out);
      });
    });
  }
}
