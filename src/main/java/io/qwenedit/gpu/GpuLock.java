package io.qwenedit.gpu;

import io.qwenedit.redis.LuaScript;
import io.qwenedit.redis.RedisCommands;
import io.vertx.core.Future;
import java.time.Duration;
import java.util.List;

/**
 * A GPU's lease lock in Redis ({@code <prefix>gpu:<name>}): an owner token and a time-to-live, renewed while held, so
 * two worker processes pointed at one ComfyUI never drive it at once and a dead process's lock frees itself.
 */
public final class GpuLock {
  private static final LuaScript SCRIPT = LuaScript.loadPlain("gpu_lock");

  /** @param owner the current holder's token ("" when free) */
  public record Result(boolean held, String owner) {}

  private final RedisCommands redis;
  private final String key;
  private final String token;
  private final Duration ttl;

  public GpuLock(RedisCommands redis, String prefix, String gpuName, String token, Duration ttl) {
    this.redis = redis;
    this.key = prefix + "gpu:" + gpuName;
    this.token = token;
    this.ttl = ttl;
  }

  public String key() {
    return key;
  }

  public Future<Result> acquire() {
    return run("acquire");
  }

  public Future<Result> renew() {
    return run("renew");
  }

  public Future<Result> release() {
    return run("release");
  }

  private Future<Result> run(String op) {
    return redis.eval(SCRIPT, List.of(key), List.of(op, token, ttl.toMillis()))
        .map(r -> new Result(r.get(0).toInteger() == 1, r.get(1).toString()));
  }
}
