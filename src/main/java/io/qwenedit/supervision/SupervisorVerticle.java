package io.qwenedit.supervision;

import io.qwenedit.health.Health;
import io.qwenedit.metrics.JobMetrics;
import io.qwenedit.worker.Addresses;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.Status;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deploys the worker's verticles and keeps them moving. Every second it pings each one; a verticle whose progress is
 * overdue, that stops answering, or whose deployment failed is undeployed (with a time limit: a stop that never ends
 * must not block the supervisor) and deployed again, with back-off when it keeps failing. When redeploying does not
 * bring progress back (an event loop blocked for good), it declares the process not live, so a process manager
 * restarts it. Every redeploy is logged with its reason and counted ({@code qwenedit_verticle_redeploys_total}).
 */
public final class SupervisorVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(SupervisorVerticle.class);

  /** One supervised verticle: how to make a fresh instance of it. */
  public record Child(String name, Supplier<SupervisedVerticle> factory) {}

  /**
   * @param checkInterval how often every child is pinged
   * @param pingTimeout an unanswered ping after this long counts as missed
   * @param missedPings this many missed pings in a row is a stall
   * @param startStopLimit longest wait for an instance to start, and for a stalled one to stop
   * @param maxBackoff longest delay before redeploying a child that keeps failing
   * @param notLiveAfter redeploys of one child within {@code notLiveWindow} after which the process is declared stuck
   * @param blockedThreadLimit an event-loop thread blocked this long makes the process not live
   */
  public record Options(Duration checkInterval, Duration pingTimeout, int missedPings, Duration startStopLimit,
                        Duration maxBackoff, int notLiveAfter, Duration notLiveWindow, Duration blockedThreadLimit) {
    public static Options defaults() {
      return new Options(Duration.ofSeconds(1), Duration.ofSeconds(2), 3, Duration.ofSeconds(10), Duration.ofSeconds(30), 5,
          Duration.ofMinutes(5), Duration.ofSeconds(30));
    }
  }

  private final class State {
    final Child child;
    String deploymentId;
    boolean redeploying;
    int missed;
    long startedAt = System.currentTimeMillis();
    String lastProblem;
    final List<Long> redeployTimes = new ArrayList<>();
    long redeploys;
    JsonObject lastReply = new JsonObject();

    State(Child child) {
      this.child = child;
    }
  }

  private static final String NOT_YET_CHECKED = "deployed, not yet checked";

  private final List<Child> children;
  private final Options options;
  private final Map<String, State> states = new LinkedHashMap<>();
  private long timer = -1;
  private boolean stopping;

  public SupervisorVerticle(List<Child> children, Options options) {
    this.children = List.copyOf(children);
    this.options = options;
  }

  @Override
  public Future<?> start() {
    children.forEach(c -> states.put(c.name(), new State(c)));
    watchBlockedThreads();
    Future<Void> chain = Future.succeededFuture();
    for (State s : states.values()) {
      chain = chain.compose(v -> deploy(s, false)).mapEmpty();
      Health.of(vertx).readiness().register("supervisor/" + s.child.name(), 1000, p -> p.complete(status(s)));
    }
    vertx.eventBus().localConsumer(Addresses.SUPERVISOR_STATE, msg -> msg.reply(new JsonObject().put("verticles", describe())));
    vertx.eventBus().localConsumer(Addresses.SUPERVISOR_STOP, msg -> {
      stopping = true; // an orderly shutdown is about to undeploy everything: no more redeploys
      msg.reply(null);
    });
    return chain.onSuccess(v -> timer = vertx.setPeriodic(options.checkInterval().toMillis(), t -> checkAll()));
  }

  @Override
  public Future<?> stop() {
    // Vert.x has already undeployed the children (deployments made from this verticle are its children).
    stopping = true;
    vertx.cancelTimer(timer);
    states.keySet().forEach(n -> Health.of(vertx).readiness().unregister("supervisor/" + n));
    return Future.succeededFuture();
  }

  private Status status(State s) {
    JsonObject data = new JsonObject().put("deployed", s.deploymentId != null).put("redeploys", s.redeploys)
        .put("problem", s.lastProblem).put("progress", s.lastReply);
    return s.deploymentId != null && !s.redeploying && s.missed == 0 && s.lastProblem == null ? Status.OK(data) : Status.KO(data);
  }

  /**
   * Deploys a fresh instance of the child. A redeploy ({@code limited}) waits at most the start/stop limit: a start
   * that never ends would otherwise leave the child "redeploying" for good, never checked or tried again; a start that
   * ends after the limit was given up on, and is undeployed at once. The first start of the process waits as long as
   * it takes (a slow host name lookup, say): until it ends the process is not ready, which is visible.
   */
  private Future<String> deploy(State s, boolean limited) {
    SupervisedVerticle v = s.child.factory().get();
    long limit = options.startStopLimit().toMillis();
    Future<String> deployed = vertx.deployVerticle(v, new DeploymentOptions());
    return (limited ? deployed.timeout(limit, TimeUnit.MILLISECONDS) : deployed).onSuccess(id -> {
      s.deploymentId = id;
      s.startedAt = System.currentTimeMillis();
      s.missed = 0;
      s.lastProblem = NOT_YET_CHECKED; // ready once it has answered a ping
      LOG.info("verticle {} deployed", s.child.name());
    }).onFailure(err -> {
      if (err instanceof TimeoutException) {
        s.lastProblem = "its start did not finish within " + limit + " ms";
        LOG.error("verticle {} did not finish starting within {} ms; trying again", s.child.name(), limit);
        deployed.onSuccess(late -> {
          LOG.warn("verticle {} finished starting after its limit; that instance is undeployed", s.child.name());
          vertx.undeploy(late);
        });
      } else {
        LOG.error("verticle {} failed to deploy: {}", s.child.name(), err.getMessage());
      }
    });
  }

  private void checkAll() {
    if (stopping) {
      return;
    }
    for (State s : states.values()) {
      if (s.redeploying) {
        continue;
      }
      if (s.deploymentId == null) {
        redeploy(s, "not deployed");
        continue;
      }
      vertx.eventBus().<JsonObject>request(Addresses.ping(s.child.name()), null,
          new DeliveryOptions().setSendTimeout(options.pingTimeout().toMillis()).setLocalOnly(true))
          .onSuccess(reply -> judge(s, reply))
          .onFailure(err -> {
            if (s.redeploying || stopping) {
              return;
            }
            s.missed++;
            s.lastProblem = "no answer to " + s.missed + " ping(s)";
            if (s.missed >= options.missedPings()) {
              redeploy(s, "no answer to " + s.missed + " pings in a row (its event loop may be blocked)");
            }
          });
    }
  }

  private void judge(State s, Message<JsonObject> reply) {
    if (s.redeploying || stopping) {
      return;
    }
    JsonObject r = reply.body();
    s.lastReply = r;
    s.missed = 0;
    long due = r.getLong("due_within_ms", -1L);
    long progressAt = Math.max(r.getLong("progress_at", 0L), s.startedAt);
    long silent = System.currentTimeMillis() - progressAt;
    if (due >= 0 && silent > due) {
      redeploy(s, "no progress for " + silent + " ms (due within " + due + " ms)");
    } else {
      s.lastProblem = null;
    }
  }

  private void redeploy(State s, String reason) {
    s.redeploying = true;
    s.lastProblem = reason;
    s.redeploys++;
    long now = System.currentTimeMillis();
    s.redeployTimes.removeIf(t -> now - t > options.notLiveWindow().toMillis());
    s.redeployTimes.add(now);
    int recent = s.redeployTimes.size();
    LOG.warn("redeploying verticle {} (redeploy #{}, {} in the last {} s): {}", s.child.name(), s.redeploys, recent,
        options.notLiveWindow().toSeconds(), reason);
    JobMetrics.of(vertx).verticleRedeployed(s.child.name(), reasonTag(reason));
    if (recent >= options.notLiveAfter()) {
      Health.of(vertx).markNotLive("verticle " + s.child.name() + " was redeployed " + recent + " times in "
          + options.notLiveWindow().toSeconds() + " s and still does not progress: " + reason);
      LOG.error("declaring the process not live: verticle {} keeps stalling ({})", s.child.name(), reason);
    }
    long backoff = Math.min(options.maxBackoff().toMillis(), recent <= 1 ? 0 : 500L << Math.min(recent - 2, 10));
    undeployBounded(s, reason)
        .compose(v -> backoff == 0 ? Future.succeededFuture() : vertx.timer(backoff, TimeUnit.MILLISECONDS).mapEmpty())
        .compose(v -> stopping ? Future.succeededFuture() : deploy(s, true).mapEmpty())
        .onComplete(ar -> s.redeploying = false);
  }

  private static String reasonTag(String reason) {
    if (reason.startsWith("no progress")) {
      return "no_progress";
    }
    if (reason.startsWith("no answer")) {
      return "no_answer";
    }
    return "not_deployed";
  }

  private Future<Void> undeployBounded(State s, String reason) {
    String id = s.deploymentId;
    s.deploymentId = null;
    if (id == null) {
      return Future.succeededFuture();
    }
    return vertx.undeploy(id).timeout(options.startStopLimit().toMillis(), TimeUnit.MILLISECONDS)
        .recover(err -> {
          LOG.warn("verticle {} did not stop within {} ms ({}); carrying on without it (its job leases and GPU locks expire "
              + "by themselves)", s.child.name(), options.startStopLimit().toMillis(), err.getMessage());
          return Future.succeededFuture();
        });
  }

  /** An event-loop thread blocked past the limit cannot be fixed by redeploying: the process is not live. */
  private void watchBlockedThreads() {
    long limitNs = options.blockedThreadLimit().toNanos();
    ((VertxInternal) vertx).blockedThreadChecker().setThreadBlockedHandler(event -> {
      LOG.warn("thread {} has been blocked for {} ms", event.thread().getName(), event.duration() / 1_000_000);
      if (event.duration() > limitNs) {
        Health.of(vertx).markNotLive("thread " + event.thread().getName() + " blocked for " + event.duration() / 1_000_000 + " ms");
      }
    });
  }

  /** For the health endpoint and status: every child's state (ok, starting: deployed but not yet pinged, or ko). */
  public JsonArray describe() {
    JsonArray out = new JsonArray();
    states.values().forEach(s -> {
      String status = status(s).isOk() ? "ok" : NOT_YET_CHECKED.equals(s.lastProblem) && !s.redeploying ? "starting" : "ko";
      out.add(new JsonObject().put("name", s.child.name()).put("status", status).put("redeploys", s.redeploys).put("problem", s.lastProblem));
    });
    return out;
  }
}
