package io.qwenedit.worker;

import io.qwenedit.comfy.ComfyFiles;
import io.qwenedit.comfy.workflow.WorkflowCatalog;
import io.qwenedit.config.Config;
import io.qwenedit.config.ConfigException;
import io.qwenedit.gpu.GpuArbiterVerticle;
import io.qwenedit.gpu.GpuArbiterVerticle.Gpu;
import io.qwenedit.supervision.ComfyKeeperVerticle;
import io.qwenedit.supervision.ComfyProcess;
import io.qwenedit.supervision.SupervisorVerticle;
import io.qwenedit.supervision.SupervisorVerticle.Child;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker role on one Vert.x: a supervisor that deploys the GPU arbiter, the ComfyUI dispatcher, the queue poller,
 * the heartbeat, the reaper (and, when the worker owns its ComfyUI processes, their keeper), plus graceful shutdown.
 */
public final class WorkerRole {
  private static final Logger LOG = LoggerFactory.getLogger(WorkerRole.class);
  private static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true).setSendTimeout(2_000);

  private final Vertx vertx;
  private final Config config;
  private final List<Gpu> gpus;
  private final Map<String, ComfyProcess> processes;
  private String deploymentId;

  private WorkerRole(Vertx vertx, Config config, List<Gpu> gpus, Map<String, ComfyProcess> processes) {
    this.vertx = vertx;
    this.config = config;
    this.gpus = gpus;
    this.processes = processes;
  }

  /**
   * Checks the workflows (a broken file stops start-up with a clear message), starts owned ComfyUI processes, and
   * deploys the supervised verticles.
   */
  public static Future<WorkerRole> deploy(Vertx vertx, Config config, SupervisorVerticle.Options supervision) {
    WorkflowCatalog workflows = WorkflowCatalog.load(config.comfy().workflowsDir(), config.comfy().workflow());
    List<Gpu> gpus = Gpu.of(config.comfy().urls());
    Map<String, ComfyProcess> processes = new LinkedHashMap<>();
    if (config.worker().supervisesComfy()) {
      for (int i = 0; i < gpus.size(); i++) {
        Gpu g = gpus.get(i);
        processes.put(g.name(), new ComfyProcess(g.name(), i, g.url(), config.worker().comfyCommand(),
            Path.of(config.log().toFile() ? config.log().dir() : "logs"), config.log().maxFileBytes(),
            config.log().rolledFilesKept()));
      }
    }
    WorkerRole role = new WorkerRole(vertx, config, gpus, processes);
    String lockToken = config.worker().workerId() + ":" + UUID.randomUUID();
    long startedAt = System.currentTimeMillis();
    List<Child> children = new ArrayList<>(List.of(
        new Child("arbiter", () -> new GpuArbiterVerticle(config, gpus, lockToken)),
        new Child("dispatch", () -> new ComfyDispatchVerticle(config, gpus, workflows)),
        new Child("poller", () -> new QueuePollerVerticle(config, gpus.size())),
        new Child("heartbeat", () -> new HeartbeatVerticle(config, gpus, workflows, startedAt)),
        new Child("reaper", () -> new ReaperVerticle(config))));
    if (!processes.isEmpty()) {
      children.add(new Child("keeper", () -> new ComfyKeeperVerticle(config, processes)));
    }
    if (config.comfy().dirs().isEmpty()) {
      LOG.warn("COMFYUI_DIR is not set: the input and result files of every job stay in ComfyUI's input/{} and output/{}"
          + " for good (ComfyUI cannot delete them over HTTP). Set COMFYUI_DIR to ComfyUI's base directory on this machine"
          + " and the worker removes them after COMFYUI_FILES_MAX_AGE, or remove them with a scheduled job"
          + " (docs/operations.md).", ComfyFiles.SUBFOLDER, ComfyFiles.SUBFOLDER);
    } else {
      for (Path d : config.comfy().dirs()) {
        if (!Files.isDirectory(d)) {
          return Future.failedFuture(new ConfigException("Invalid setting COMFYUI_DIR: " + d.toAbsolutePath()
              + " is not a directory on this machine; it must be ComfyUI's base directory (the one holding input/ and"
              + " output/), or leave COMFYUI_DIR empty when ComfyUI runs elsewhere"));
        }
        if (!Files.isDirectory(d.resolve("input")) && !Files.isDirectory(d.resolve("output"))) {
          LOG.warn("COMFYUI_DIR {} holds neither input/ nor output/: is it ComfyUI's base directory? Nothing is removed"
              + " there until they appear", d.toAbsolutePath());
        }
      }
      children.add(new Child("files", () -> new ComfyFilesVerticle(config)));
    }
    Future<Void> started = vertx.executeBlocking(() -> {
      for (ComfyProcess p : processes.values()) {
        p.start();
      }
      return null;
    });
    return started
        .compose(v -> vertx.deployVerticle(new SupervisorVerticle(children, supervision)))
        .map(id -> {
          role.deploymentId = id;
          LOG.info("worker {} started: {} GPU(s) {}, Redis {}, workflow {}", config.worker().workerId(), gpus.size(),
              gpus.stream().map(g -> g.name() + "=" + g.url()).toList(), config.redis().displayAddress(), workflows.defaultName());
          return role;
        });
  }

  public Vertx vertx() {
    return vertx;
  }

  public List<Gpu> gpus() {
    return gpus;
  }

  /**
   * Stops claiming, lets running jobs finish for up to {@code grace}, then stops everything: jobs still running are
   * handed back to the queue without counting an attempt, connections close, owned ComfyUI processes are stopped.
   */
  public Future<Void> shutdown(Duration grace) {
    long deadline = System.currentTimeMillis() + grace.toMillis();
    LOG.info("worker {} shutting down: no new jobs; running ones get up to {} s to finish", config.worker().workerId(), grace.toSeconds());
    return vertx.eventBus().request(Addresses.POLLER_STOP, new JsonObject().put("reason", "shutdown"), LOCAL)
        .otherwiseEmpty()
        .compose(v -> drain(deadline))
        .compose(v -> vertx.eventBus().request(Addresses.SUPERVISOR_STOP, null, LOCAL).otherwiseEmpty())
        .compose(v -> deploymentId == null ? Future.succeededFuture() : vertx.undeploy(deploymentId)
            .timeout(30, TimeUnit.SECONDS).otherwiseEmpty())
        .compose(v -> vertx.executeBlocking(() -> {
          processes.values().forEach(ComfyProcess::close); // and none is started again after this
          return null;
        }))
        .onComplete(ar -> LOG.info("worker {} stopped", config.worker().workerId()))
        .mapEmpty();
  }

  private Future<Void> drain(long deadline) {
    return vertx.eventBus().<JsonObject>request(Addresses.DISPATCH_STATE, null, LOCAL)
        .map(m -> m.body().getJsonArray("jobs").size())
        .otherwise(0)
        .compose(n -> {
          if (n == 0 || System.currentTimeMillis() >= deadline) {
            if (n > 0) {
              LOG.info("grace period over: handing {} running job(s) back to the queue", n);
            }
            return Future.succeededFuture();
          }
          return vertx.timer(200, TimeUnit.MILLISECONDS).compose(t -> drain(deadline));
        });
  }
}
