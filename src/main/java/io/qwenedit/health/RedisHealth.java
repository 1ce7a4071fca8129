package io.qwenedit.health;

import io.qwenedit.redis.RedisCommands;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.redis.client.Command;
import java.util.function.BooleanSupplier;

/** Readiness procedures for the Redis clients a part uses, measured on those very clients. */
public final class RedisHealth {
  private RedisHealth() {}

  /** {@code redis/<name>}: a PING through this pooled client answers within {@code timeoutMs}. */
  public static void registerCommands(HealthChecks checks, String name, RedisCommands redis, long timeoutMs) {
    String address = redis.config().displayAddress();
    checks.register("redis/" + name, timeoutMs, promise -> {
      long started = System.nanoTime();
      redis.send(Command.PING)
          .onSuccess(r -> promise.tryComplete(Status.OK(new JsonObject().put("address", address)
              .put("latency_ms", Math.round((System.nanoTime() - started) / 1e5) / 10.0))))
          .onFailure(err -> promise.tryComplete(Status.KO(new JsonObject().put("address", address)
              .put("error", String.valueOf(err.getMessage())))));
    });
  }

  /** {@code redis/<name>}: a pub/sub subscription is established (it pings its own connection every few seconds). */
  public static void registerSubscription(HealthChecks checks, String name, BooleanSupplier subscribed, String address, long timeoutMs) {
    checks.register("redis/" + name, timeoutMs, promise -> {
      JsonObject data = new JsonObject().put("address", address).put("subscribed", subscribed.getAsBoolean());
      promise.tryComplete(subscribed.getAsBoolean() ? Status.OK(data) : Status.KO(data));
    });
  }
}
