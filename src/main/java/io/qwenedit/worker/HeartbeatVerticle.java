package io.qwenedit.worker;

import io.qwenedit.cli.Main;
import io.qwenedit.comfy.ComfyClient;
import io.qwenedit.comfy.ComfyClientOptions;
import io.qwenedit.comfy.ComfyHealth;
import io.qwenedit.comfy.workflow.WorkflowCatalog;
import io.qwenedit.config.Config;
import io.qwenedit.gpu.GpuArbiterVerticle.Gpu;
import io.qwenedit.health.Health;
import io.qwenedit.health.ServiceHeartbeatVerticle;
import io.qwenedit.queue.Keys;
import io.qwenedit.queue.Registry;
import io.qwenedit.redis.RedisCommands;
import io.qwenedit.supervision.SupervisedVerticle;
import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.Status;
import io.vertx.redis.client.Command;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Probes Redis and every ComfyUI each {@code WORKER_HEARTBEAT_INTERVAL}, tells the arbiter each GPU's health, and keeps
 * this worker's entry in Redis alive (id, host, GPUs and their state, current jobs, version, start time, the
 * supervisor's view of every verticle and the liveness verdict) with a time-to-live of three intervals, so
 * {@code status} shows the live workers and a dead one disappears by itself.
 */
public final class HeartbeatVerticle extends SupervisedVerticle {
  private static final Logger LOG = LoggerFactory.getLogger(HeartbeatVerticle.class);
  private static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true).setSendTimeout(2_000);

  private final Config config;
  private final List<Gpu> gpus;
  private final WorkflowCatalog workflows;
  private final long startedAt;
  private final Map<String, ComfyClient> probes = new LinkedHashMap<>();
  private final Map<String, String> lastState = new LinkedHashMap<>();
  private RedisCommands redis;
  private Registry registry;
  private long timer = -1;
  private volatile long lastRedisOkAt;
  private volatile String redisProblem = "not probed yet";
  private boolean beating;
  private String host = "unknown";

  public HeartbeatVerticle(Config config, List<Gpu> gpus, WorkflowCatalog workflows, long startedAt) {
    super(config.worker().testSwitches());
    this.config = config;
    this.gpus = gpus;
    this.workflows = workflows;
    this.startedAt = startedAt;
  }

  @Override
  public String name() {
    return "heartbeat";
  }

  @Override
  protected long progressDueWithinMs() {
    return 3 * interval() + config.comfy().requestTimeout().toMillis() * 3 + config.redis().commandTimeout().toMillis();
  }

  private long interval() {
    return config.worker().heartbeatInterval().toMillis();
  }

  @Override
  protected Future<?> startService() {
    redis = new RedisCommands(vertx, config.redis(), "heartbeat");
    registry = Registry.workers(redis, new Keys(config.redis().prefix()));
    for (Gpu g : gpus) {
      ComfyClientOptions opts = ComfyClientOptions.from(config.comfy(), workflows)
          .withClientId("qwenedit-" + config.worker().workerId() + "-" + g.name() + "-probe");
      probes.put(g.name(), new ComfyClient(vertx, g.url(), opts));
    }
    Health.of(vertx).readiness().register("redis/commands", (int) Math.max(1000, config.redis().commandTimeout().toMillis()), p -> {
      long age = System.currentTimeMillis() - lastRedisOkAt;
      JsonObject d = new JsonObject().put("address", config.redis().displayAddress()).put("last_ok_age_s", lastRedisOkAt == 0 ? null : age / 1000.0);
      p.complete(lastRedisOkAt > 0 && age < 3 * interval() + config.redis().commandTimeout().toMillis()
          ? Status.OK(d) : Status.KO(d.put("problem", redisProblem)));
    });
    // a host-name lookup may wait on DNS: once, on a worker thread, never on the event loop at every beat
    return vertx.executeBlocking(ServiceHeartbeatVerticle::hostName).onSuccess(h -> {
      host = h;
      timer = vertx.setPeriodic(interval(), t -> beat());
      beat();
    });
  }

  @Override
  protected Future<?> stopService() {
    vertx.cancelTimer(timer);
    Health.of(vertx).readiness().unregister("redis/commands");
    return Future.join(probes.values().stream().map(ComfyClient::close).toList())
        .eventually(() -> registry.remove(config.worker().workerId()).otherwiseEmpty())
        .eventually(() -> redis.close());
  }

  private void beat() {
    if (beating || stalled()) {
      return;
    }
    beating = true;
    // RedisCommands bounds the PING by REDIS_COMMAND_TIMEOUT itself
    Future<Void> redisProbe = redis.send(Command.PING)
        .onSuccess(r -> lastRedisOkAt = System.currentTimeMillis())
        .onFailure(err -> {
          redisProblem = err.getMessage();
          LOG.warn("heartbeat: Redis at {} does not answer: {}", config.redis().displayAddress(), err.getMessage());
        }).mapEmpty();
    List<Future<?>> gpuProbes = new ArrayList<>();
    for (Gpu g : gpus) {
      gpuProbes.add(probes.get(g.name()).probe()
          .timeout(config.comfy().requestTimeout().toMillis() * 3 + 1_000, TimeUnit.MILLISECONDS)
          .recover(err -> Future.succeededFuture(new ComfyHealth(ComfyHealth.State.UNREACHABLE,
              g.url() + " did not answer the probe: " + err.getMessage(), null, null, null, -1, null)))
          .onSuccess(h -> publishHealth(g, h)));
    }
    Future.join(redisProbe, Future.join(gpuProbes))
        .transform(v -> announce())
        .onComplete(ar -> {
          beating = false;
          progressed();
        });
  }

  private void publishHealth(Gpu g, ComfyHealth h) {
    String state = h.state().name();
    String before = lastState.put(g.name(), state);
    if (!state.equals(before) && before != null) {
      LOG.info("{} ({}) probe: {} -> {}: {}", g.name(), g.url(), before, state, h.detail());
    }
    vertx.eventBus().publish(Addresses.GPU_HEALTH, new JsonObject().put("gpu", g.name()).put("state", state)
        .put("detail", h.detail()).put("at", System.currentTimeMillis()), LOCAL);
  }

  private Future<Void> announce() {
    Future<JsonObject> gpusState = vertx.eventBus().<JsonObject>request(Addresses.ARBITER_STATE, null, LOCAL)
        .map(m -> m.body()).otherwise(new JsonObject().put("gpus", new JsonArray()));
    Future<JsonObject> jobsState = vertx.eventBus().<JsonObject>request(Addresses.DISPATCH_STATE, null, LOCAL)
        .map(m -> m.body()).otherwise(new JsonObject().put("jobs", new JsonArray()));
    Future<JsonObject> supervisorState = vertx.eventBus().<JsonObject>request(Addresses.SUPERVISOR_STATE, null, LOCAL)
        .map(m -> m.body()).otherwise(new JsonObject());
    return Future.join(gpusState, jobsState, supervisorState).compose(v -> {
      Health health = Health.of(vertx);
      JsonObject entry = new JsonObject()
          .put("host", host)
          .put("pid", ProcessHandle.current().pid())
          .put("version", Main.VERSION)
          .put("started_at", startedAt)
          .put("gpus", gpusState.result().getJsonArray("gpus"))
          .put("jobs", jobsState.result().getJsonArray("jobs"))
          .put("redis_ok", lastRedisOkAt > 0 && System.currentTimeMillis() - lastRedisOkAt < 2 * interval())
          // the supervisor's view of every verticle, and its liveness verdict: `status` shows them deployment-wide
          .put("verticles", supervisorState.result().getJsonArray("verticles", new JsonArray()))
          .put("live", health.live())
          .put("not_live_reason", health.notLiveReason())
          .put("at", System.currentTimeMillis());
      return registry.announce(config.worker().workerId(), entry, Duration.ofMillis(3 * interval() + 1_000));
    }).otherwiseEmpty();
  }
}
