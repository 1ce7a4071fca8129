package io.qwenedit.gpu;

import io.qwenedit.config.Config;
import io.qwenedit.health.Health;
import io.qwenedit.metrics.JobMetrics;
import io.qwenedit.redis.RedisCommands;
import io.qwenedit.supervision.SupervisedVerticle;
import io.qwenedit.worker.Addresses;
import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.Status;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One slot per configured ComfyUI (one per GPU). A slot can be given to the poller only when this process holds the
 * GPU's Redis lease lock and the GPU's last probe was healthy; so two worker processes never drive one GPU, a dead
 * process's GPU frees itself after the lock's time-to-live, and an unhealthy GPU gets no work until it recovers.
 * Slots go free → reserved (for one claim) → busy (running a job) → free.
 */
public final class GpuArbiterVerticle extends SupervisedVerticle {
  private static final Logger LOG = LoggerFactory.getLogger(GpuArbiterVerticle.class);

  /** A GPU: its display name (gpu0, gpu1...), ComfyUI base URL, and the lock name shared by every worker using it. */
  public record Gpu(String name, URI url) {
    public String lockName() {
      return url.getHost() + ":" + (url.getPort() < 0 ? ("https".equals(url.getScheme()) ? 443 : 80) : url.getPort());
    }

    public static List<Gpu> of(List<URI> urls) {
      List<Gpu> out = new ArrayList<>();
      for (int i = 0; i < urls.size(); i++) {
        out.add(new Gpu("gpu" + i, urls.get(i)));
      }
      return out;
    }
  }

  private final class Slot {
    final Gpu gpu;
    final GpuLock lock;
    long lockValidUntil;
    String lockOwner = "";
    String health = "UNKNOWN";
    String healthDetail;
    long lastGoodProbeAt;
    String state = "free";
    long reservedUntil;
    String job;
    long busySince;

    Slot(Gpu gpu, GpuLock lock) {
      this.gpu = gpu;
      this.lock = lock;
    }

    boolean lockHeld() {
      return System.currentTimeMillis() < lockValidUntil;
    }

    boolean usable() {
      return lockHeld() && "HEALTHY".equals(health);
    }

    String display() {
      if ("busy".equals(state)) {
        return "busy";
      }
      if (!lockHeld()) {
        return lockOwner.isEmpty() ? "unlocked" : "locked-elsewhere";
      }
      if (!"HEALTHY".equals(health)) {
        return health.toLowerCase(java.util.Locale.ROOT);
      }
      return state;
    }

    /** The state as the metrics name it: healthy, busy, wedged, unreachable (or another word, counted as other). */
    String metricState() {
      String d = display();
      switch (d) {
        case "free":
        case "reserved":
          return "healthy";
        case "restarting":
        case "unknown":
          return "unreachable";
        default:
          return d;
      }
    }

    JsonObject toJson() {
      long now = System.currentTimeMillis();
      return new JsonObject().put("name", gpu.name()).put("url", gpu.url().toString()).put("state", display())
          .put("health", health).put("health_detail", healthDetail).put("lock", lockHeld() ? "held" : lockOwner.isEmpty() ? "free" : "other")
          .put("last_good_probe_age_s", lastGoodProbeAt == 0 ? null : (now - lastGoodProbeAt) / 1000.0)
          .put("job", job).put("busy_s", "busy".equals(state) ? (now - busySince) / 1000.0 : null);
    }
  }

  private final Config config;
  private final List<Gpu> gpus;
  private final String lockToken;
  private final long reserveTtlMs;
  private final List<Slot> slots = new ArrayList<>();
  private RedisCommands redis;
  private long timer = -1;
  private long tickMs;

  /**
   * @param lockToken this process's owner token: stable across redeploys of this verticle, so a new instance keeps the
   *     locks the old one held
   */
  public GpuArbiterVerticle(Config config, List<Gpu> gpus, String lockToken) {
    super(config.worker().testSwitches());
    this.config = config;
    this.gpus = gpus;
    this.lockToken = lockToken;
    this.reserveTtlMs = config.queue().blockTime().toMillis() + config.queue().blockGrace().toMillis()
        + config.redis().commandTimeout().toMillis() + 5_000;
  }

  @Override
  public String name() {
    return "arbiter";
  }

  @Override
  protected long progressDueWithinMs() {
    return tickMs * 3 + config.redis().commandTimeout().toMillis();
  }

  @Override
  protected Future<?> startService() {
    redis = new RedisCommands(vertx, config.redis(), "arbiter");
    for (Gpu g : gpus) {
      slots.add(new Slot(g, new GpuLock(redis, config.redis().prefix(), g.lockName(), lockToken, config.worker().gpuLockTimeout())));
    }
    consume(Addresses.ARBITER_RESERVE, msg -> msg.reply(reserve(((JsonObject) msg.body()).getInteger("max", 1))));
    consume(Addresses.ARBITER_UNRESERVE, msg -> slot(msg.body()).ifPresent(s -> {
      if ("reserved".equals(s.state)) {
        free(s);
      }
    }));
    consume(Addresses.ARBITER_ASSIGN, msg -> {
      JsonObject b = (JsonObject) msg.body();
      slot(b).ifPresent(s -> {
        s.state = "busy";
        s.job = b.getString("job");
        s.busySince = System.currentTimeMillis();
      });
    });
    consume(Addresses.ARBITER_RELEASE, msg -> {
      JsonObject b = (JsonObject) msg.body();
      slot(b).ifPresent(s -> {
        if ("busy".equals(s.state) && (s.job == null || s.job.equals(b.getString("job")))) {
          free(s);
        }
      });
    });
    consume(Addresses.GPU_HEALTH, msg -> onHealth((JsonObject) msg.body()));
    consume(Addresses.ARBITER_STATE, msg -> msg.reply(state()));
    Health.of(vertx).readiness().register("worker/gpus", 1000, p -> {
      JsonObject data = state();
      // a GPU busy on a ComfyUI that stopped answering or wedged is not a healthy one
      boolean any = slots.stream().anyMatch(s -> s.usable() || ("busy".equals(s.state) && "HEALTHY".equals(s.health)));
      p.complete(any ? Status.OK(data) : Status.KO(data.put("problem", "no GPU is healthy and ours")));
    });
    tickMs = Math.max(200, config.worker().gpuLockTimeout().toMillis() / 3);
    timer = vertx.setPeriodic(tickMs, t -> tick());
    return adoptBusySlots().compose(v -> locks()).recover(err -> {
      LOG.warn("GPU locks could not be taken at start ({}); retrying every {} ms", err.getMessage(), tickMs);
      return Future.succeededFuture();
    });
  }

  @Override
  protected Future<?> stopService() {
    vertx.cancelTimer(timer);
    Health.of(vertx).readiness().unregister("worker/gpus");
    // Free GPUs are handed back at once; a busy one keeps its lock (its job may still run) until it expires or a new
    // arbiter of this process adopts it.
    List<Future<?>> releases = new ArrayList<>();
    for (Slot s : slots) {
      if (!"busy".equals(s.state) && s.lockHeld()) {
        releases.add(s.lock.release());
      }
    }
    return Future.join(releases).transform(ar -> redis.close());
  }

  @Override
  protected JsonObject detail() {
    return state();
  }

  private JsonObject state() {
    JsonArray arr = new JsonArray();
    slots.forEach(s -> arr.add(s.toJson()));
    return new JsonObject().put("gpus", arr);
  }

  private java.util.Optional<Slot> slot(Object body) {
    String name = ((JsonObject) body).getString("gpu");
    return slots.stream().filter(s -> s.gpu.name().equals(name)).findFirst();
  }

  private JsonObject reserve(int max) {
    long now = System.currentTimeMillis();
    JsonArray out = new JsonArray();
    for (Slot s : slots) {
      if (out.size() >= max) {
        break;
      }
      if ("reserved".equals(s.state) && now > s.reservedUntil) {
        s.state = "free";
      }
      if ("free".equals(s.state) && s.usable()) {
        s.state = "reserved";
        s.reservedUntil = now + reserveTtlMs;
        out.add(new JsonObject().put("gpu", s.gpu.name()).put("url", s.gpu.url().toString()));
      }
    }
    return new JsonObject().put("slots", out);
  }

  private void free(Slot s) {
    s.state = "free";
    s.job = null;
    if (s.usable()) {
      vertx.eventBus().publish(Addresses.ARBITER_CHANGED, new JsonObject().put("gpu", s.gpu.name()),
          new DeliveryOptions().setLocalOnly(true));
    }
  }

  private void onHealth(JsonObject h) {
    slot(h).ifPresent(s -> {
      String before = s.health;
      s.health = h.getString("state", "UNKNOWN");
      s.healthDetail = h.getString("detail");
      if ("HEALTHY".equals(s.health)) {
        s.lastGoodProbeAt = System.currentTimeMillis();
      }
      if (!s.health.equals(before)) {
        if ("HEALTHY".equals(s.health)) {
          LOG.info("{} ({}) is healthy{}", s.gpu.name(), s.gpu.url(), "UNKNOWN".equals(before) ? "" : " again; it gets work");
          if ("free".equals(s.state) && s.usable()) {
            free(s);
          }
        } else {
          LOG.warn("{} ({}) is {}: no work for it until it recovers ({})", s.gpu.name(), s.gpu.url(), s.health, s.healthDetail);
        }
      }
    });
  }

  private void tick() {
    if (stalled()) {
      return;
    }
    long now = System.currentTimeMillis();
    for (Slot s : slots) {
      if ("reserved".equals(s.state) && now > s.reservedUntil) {
        free(s);
      }
    }
    // the loop turned (even when Redis is down: an outage is a readiness problem, not a stalled verticle)
    Future.join(locks(), adoptBusySlots()).onComplete(ar -> {
      progressed();
      slots.forEach(s -> JobMetrics.of(vertx).gpuState(s.gpu.name(), s.metricState()));
    });
  }

  /** Takes (or renews) every GPU lock; a slot that just became usable wakes the poller. */
  private Future<Void> locks() {
    List<Future<?>> all = new ArrayList<>();
    for (Slot s : slots) {
      boolean hadIt = s.lockHeld();
      long askedAt = System.currentTimeMillis();
      all.add((hadIt ? s.lock.renew() : s.lock.acquire()).onSuccess(r -> {
        // As the answer arrives, not as it was asked: a slow renewal can arrive after the lock's validity here ran
        // out, and a poller that asked for a slot meanwhile got none and waits for this slot to be usable again.
        boolean usableBefore = s.usable();
        s.lockOwner = r.owner();
        if (r.held()) {
          s.lockValidUntil = askedAt + config.worker().gpuLockTimeout().toMillis() - 500;
          if (!hadIt) {
            LOG.info("{} ({}): GPU lock taken", s.gpu.name(), s.gpu.url());
          }
          if (!usableBefore && "free".equals(s.state) && s.usable()) {
            free(s);
          }
        } else {
          if (hadIt) {
            LOG.warn("{} ({}): GPU lock lost to {}", s.gpu.name(), s.gpu.url(), r.owner());
          }
          s.lockValidUntil = 0;
        }
      }));
    }
    return Future.all(all).mapEmpty();
  }

  /** A slot marked busy whose job the dispatcher no longer runs (it was redeployed) is free again. */
  private Future<Void> adoptBusySlots() {
    return vertx.eventBus().<JsonObject>request(Addresses.DISPATCH_STATE, null,
        new DeliveryOptions().setSendTimeout(2_000).setLocalOnly(true)).map(reply -> {
          Set<String> running = new HashSet<>();
          JsonArray jobs = reply.body().getJsonArray("jobs", new JsonArray());
          for (int i = 0; i < jobs.size(); i++) {
            JsonObject j = jobs.getJsonObject(i);
            running.add(j.getString("gpu"));
            slot(j).ifPresent(s -> {
              if (!"busy".equals(s.state)) {
                s.state = "busy";
                s.job = j.getString("id");
                s.busySince = j.getLong("started_at", System.currentTimeMillis());
              }
            });
          }
          for (Slot s : slots) {
            if ("busy".equals(s.state) && !running.contains(s.gpu.name())
                && System.currentTimeMillis() - s.busySince > 5_000) {
              LOG.warn("{}: marked busy with job {} but the dispatcher runs nothing there; freeing it", s.gpu.name(), s.job);
              free(s);
            }
          }
          return (Void) null;
        }).otherwiseEmpty();
  }
}
