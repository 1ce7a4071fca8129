package io.qwenedit.health;

import io.vertx.core.Vertx;
import io.vertx.ext.healthchecks.HealthChecks;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * The process's health, shared by every role running on one Vert.x: readiness procedures (Vert.x Health Checks; each
 * part registers its own, e.g. {@code redis/commands}, {@code worker/poller}, {@code worker/gpus}) and the liveness
 * verdict (the supervisor declares the process stuck when redeploying does not bring progress back).
 */
public final class Health {
  private static final Map<Vertx, Health> ALL = new WeakHashMap<>();

  private final HealthChecks readiness;
  private volatile String notLiveReason;

  private Health(Vertx vertx) {
    this.readiness = HealthChecks.create(vertx);
  }

  public static Health of(Vertx vertx) {
    synchronized (ALL) {
      return ALL.computeIfAbsent(vertx, Health::new);
    }
  }

  /** Readiness procedures: register with a time limit ({@code register(name, timeoutMs, procedure)}). */
  public HealthChecks readiness() {
    return readiness;
  }

  /** Declares the process stuck (liveness fails from now on, so a process manager restarts it). */
  public void markNotLive(String reason) {
    this.notLiveReason = reason;
  }

  public boolean live() {
    return notLiveReason == null;
  }

  public String notLiveReason() {
    return notLiveReason;
  }
}
