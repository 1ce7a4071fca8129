package io.qwenedit.supervision;

import io.qwenedit.config.Config;
import io.qwenedit.worker.Addresses;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the ComfyUI processes this worker owns running: one that exits is started again; one that stays wedged or
 * unreachable for {@code COMFYUI_RESTART_AFTER} (it answers HTTP but finishes nothing, or hangs) is killed with its
 * whole process tree and started again. Repeated restarts back off (1 s doubling, at most 60 s). Meanwhile its GPU
 * is out of service (the arbiter gives work only to healthy GPUs) and jobs go to the other GPUs. Also keeps each
 * process's output file within {@code LOG_FILE_MAX_SIZE} (checked every 5 s).
 */
public final class ComfyKeeperVerticle extends SupervisedVerticle {
  private static final Logger LOG = LoggerFactory.getLogger(ComfyKeeperVerticle.class);
  private static final long ROLL_EVERY_MS = 5_000;

  private final Config config;
  private final Map<String, ComfyProcess> processes;
  private final Map<String, Long> unhealthySince = new HashMap<>();
  private final Map<String, Integer> recentRestarts = new HashMap<>();
  private final Map<String, Long> restartingUntil = new HashMap<>();
  private final Map<String, Runnable> exitListeners = new HashMap<>();
  private boolean stopped;
  private long rollTimer = -1;
  private boolean rolling;
  /** GPUs whose output file could not be rolled last time (touched on worker threads, one roll at a time). */
  private final Set<String> rollFailing = ConcurrentHashMap.newKeySet();

  public ComfyKeeperVerticle(Config config, Map<String, ComfyProcess> processes) {
    super(config.worker().testSwitches());
    this.config = config;
    this.processes = processes;
  }

  @Override
  public String name() {
    return "keeper";
  }

  @Override
  protected long progressDueWithinMs() {
    return -1; // it only reacts to probes and exits
  }

  @Override
  protected JsonObject detail() {
    JsonObject d = new JsonObject();
    processes.forEach((gpu, p) -> d.put(gpu, new JsonObject().put("pid", p.pid()).put("alive", p.alive()).put("starts", p.starts())));
    return d;
  }

  @Override
  protected Future<?> startService() {
    consume(Addresses.GPU_HEALTH, msg -> onHealth((JsonObject) msg.body()));
    processes.forEach((gpu, p) -> watchExit(gpu, p));
    rollTimer = vertx.setPeriodic(ROLL_EVERY_MS, t -> rollLogs());
    return Future.succeededFuture();
  }

  @Override
  protected Future<?> stopService() {
    // A stopping worker stops its ComfyUI after this keeper, and a keeper being replaced leaves the processes to its
    // successor: neither may start one again (a listener already running checks this).
    stopped = true;
    exitListeners.forEach((gpu, l) -> processes.get(gpu).removeExitListener(l));
    vertx.cancelTimer(rollTimer);
    return Future.succeededFuture();
  }

  /** Keeps each ComfyUI's output file within LOG_FILE_MAX_SIZE (ComfyUI appends to it for as long as it runs). */
  private void rollLogs() {
    if (rolling) {
      return;
    }
    rolling = true;
    vertx.executeBlocking(() -> {
      for (Map.Entry<String, ComfyProcess> e : processes.entrySet()) {
        try {
          e.getValue().rollLog();
          rollFailing.remove(e.getKey());
        } catch (IOException err) {
          if (rollFailing.add(e.getKey())) {
            LOG.warn("{}: cannot roll its ComfyUI's output over ({}); tried again every {} s", e.getKey(), err.getMessage(),
                ROLL_EVERY_MS / 1000);
          }
        }
      }
      return null;
    }, false).onComplete(ar -> rolling = false);
  }

  /**
   * Restarts its ComfyUI whenever the process ends (added once: it hears the processes started again too; removed
   * when this keeper stops, so keepers deployed one after the other leave nothing behind).
   */
  private void watchExit(String gpu, ComfyProcess p) {
    Context own = context; // the JDK calls back on a thread of its own: back to this verticle's thread for its maps
    Runnable listener = () -> own.runOnContext(v -> {
      if (!stopped && !p.alive() && restartingUntil.getOrDefault(gpu, 0L) < System.currentTimeMillis()) {
        restart(gpu, "the ComfyUI process exited");
      }
    });
    exitListeners.put(gpu, listener);
    p.addExitListener(listener);
  }

  private void onHealth(JsonObject h) {
    String gpu = h.getString("gpu");
    if (!processes.containsKey(gpu)) {
      return;
    }
    long now = System.currentTimeMillis();
    if ("HEALTHY".equals(h.getString("state"))) {
      unhealthySince.remove(gpu);
      recentRestarts.remove(gpu);
      return;
    }
    long since = unhealthySince.computeIfAbsent(gpu, g -> now);
    if (now - since >= config.worker().comfyRestartAfter().toMillis() && restartingUntil.getOrDefault(gpu, 0L) < now) {
      restart(gpu, h.getString("state") + " for " + (now - since) / 1000 + " s: " + h.getString("detail"));
    }
  }

  private void restart(String gpu, String reason) {
    ComfyProcess p = processes.get(gpu);
    int n = recentRestarts.merge(gpu, 1, Integer::sum);
    long backoff = Math.min(60_000, 1_000L << Math.min(n - 1, 6));
    // no second restart while this one starts up: give it the restart window to become healthy
    restartingUntil.put(gpu, System.currentTimeMillis() + backoff + config.worker().comfyRestartAfter().toMillis());
    unhealthySince.remove(gpu);
    LOG.warn("{}: restarting its ComfyUI in {} ms (restart #{} in a row): {}", gpu, backoff, n, reason);
    vertx.eventBus().publish(Addresses.GPU_HEALTH, new JsonObject().put("gpu", gpu).put("state", "RESTARTING")
        .put("detail", reason).put("at", System.currentTimeMillis()), new DeliveryOptions().setLocalOnly(true));
    vertx.executeBlocking(() -> {
      p.killTree();
      return null;
    }).compose(v -> vertx.timer(backoff)).compose(v -> stopped ? Future.failedFuture("stopped")
        : vertx.executeBlocking(() -> {
          p.start();
          return null;
        })).onSuccess(v -> progressed()).onFailure(err -> {
      if (stopped) {
        LOG.info("{}: ComfyUI not started again: the keeper stopped meanwhile", gpu);
      } else {
        LOG.error("{}: could not start ComfyUI again: {}", gpu, err.getMessage());
      }
    });
  }
}
