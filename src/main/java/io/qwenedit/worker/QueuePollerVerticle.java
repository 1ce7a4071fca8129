package io.qwenedit.worker;

import io.qwenedit.config.Config;
import io.qwenedit.health.Health;
import io.qwenedit.metrics.JobMetrics;
import io.qwenedit.queue.JobQueue;
import io.qwenedit.queue.JobWaiter;
import io.qwenedit.queue.QueueResults.Claimed;
import io.qwenedit.redis.RedisCommands;
import io.qwenedit.supervision.SupervisedVerticle;
import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.Status;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Claims jobs only when the arbiter has granted free GPU slots for them (demand-driven: a job is never taken and then
 * pushed back because a GPU was busy), exactly as many as there are slots, and hands each job with its slot to the
 * dispatcher. Waits for jobs with one blocking Redis call at a time ({@link JobWaiter}), and for slots on the event bus.
 */
public final class QueuePollerVerticle extends SupervisedVerticle {
  private static final Logger LOG = LoggerFactory.getLogger(QueuePollerVerticle.class);
  private static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true).setSendTimeout(5_000);

  private final Config config;
  private final int maxSlots;
  private RedisCommands redis;
  private JobQueue queue;
  private JobWaiter waiter;
  private boolean stopped;
  private boolean closing;
  private Future<List<Claimed>> inFlight = Future.succeededFuture(List.of());
  private final List<Future<?>> handBack = new java.util.ArrayList<>();
  private boolean looping;
  private boolean waitingForSlot;
  private boolean inWait;
  private long lastTurnSeen;
  private long watchTimer = -1;
  private long lastCycleAt = System.currentTimeMillis();
  private long claimed;

  public QueuePollerVerticle(Config config, int maxSlots) {
    super(config.worker().testSwitches());
    this.config = config;
    this.maxSlots = maxSlots;
  }

  @Override
  public String name() {
    return "poller";
  }

  @Override
  protected long progressDueWithinMs() {
    if (stopped || waitingForSlot) {
      return -1; // waiting for a GPU slot, or stopped: nothing is due
    }
    // one blocking wait plus its guard, a claim, and slack
    return config.queue().blockTime().toMillis() + config.queue().blockGrace().toMillis()
        + 2 * config.redis().commandTimeout().toMillis() + 1_000;
  }

  @Override
  protected JsonObject detail() {
    return new JsonObject().put("waiting_for", stopped ? "nothing (stopped)" : inWait ? "jobs" : "a free GPU")
        .put("last_cycle_age_s", (System.currentTimeMillis() - lastCycleAt) / 1000.0)
        .put("claimed", claimed)
        .put("redis_degraded", waiter != null && waiter.degraded());
  }

  @Override
  protected Future<?> startService() {
    redis = new RedisCommands(vertx, config.redis(), "poller");
    queue = new JobQueue(redis, config.queue());
    waiter = new JobWaiter(vertx, queue, config.redis(), config.queue(), config.worker().workerId());
    consume(Addresses.ARBITER_CHANGED, msg -> {
      if (waitingForSlot) {
        // a slot may be free: progress is due again from now on, so a loop that does not move on is seen as stalled
        waitingForSlot = false;
        loop();
      }
    });
    consume(Addresses.POLLER_STOP, msg -> {
      stopped = true;
      LOG.info("no longer claiming jobs ({})", ((JsonObject) msg.body()).getString("reason", "asked to stop"));
      msg.reply(new JsonObject());
    });
    consume(Addresses.POLLER_STATE, msg -> msg.reply(detail().put("last_cycle_at", lastCycleAt)));
    Health.of(vertx).readiness().register("worker/poller", 1000, p -> {
      JsonObject d = detail();
      long due = progressDueWithinMs();
      long age = System.currentTimeMillis() - lastCycleAt;
      if (waiter.degraded()) {
        p.complete(Status.KO(d.put("problem", "Redis: " + waiter.lastError())));
      } else if (due >= 0 && age > due) {
        p.complete(Status.KO(d.put("problem", "no wait cycle for " + age + " ms (due within " + due + " ms)")));
      } else {
        p.complete(Status.OK(d));
      }
    });
    // The waiter turns even while Redis is down (it retries); a loop that stopped turning is what the supervisor
    // must see.
    watchTimer = vertx.setPeriodic(500, t -> {
      long turn = waiter.lastTurnAt();
      if (turn != lastTurnSeen) {
        lastTurnSeen = turn;
        progressed();
      }
    });
    vertx.runOnContext(v -> loop());
    return Future.succeededFuture();
  }

  @Override
  protected Future<?> stopService() {
    stopped = true;
    closing = true;
    vertx.cancelTimer(watchTimer);
    Health.of(vertx).readiness().unregister("worker/poller");
    // closing the waiter ends a parked wait; a claim already sent still answers, and what it brings is handed back
    return waiter.close()
        .transform(v -> inFlight.transform(x -> Future.join(handBack)).timeout(config.redis().commandTimeout().toMillis(),
            java.util.concurrent.TimeUnit.MILLISECONDS))
        .eventually(() -> redis.close());
  }

  private void loop() {
    if (stopped || stalled() || looping) {
      return;
    }
    looping = true;
    waitingForSlot = false;
    vertx.eventBus().<JsonObject>request(Addresses.ARBITER_RESERVE, new JsonObject().put("max", maxSlots), LOCAL)
        .onFailure(err -> {
          looping = false;
          vertx.setTimer(1_000, t -> loop()); // the arbiter is being redeployed
        })
        .onSuccess(reply -> {
          JsonArray slots = reply.body().getJsonArray("slots");
          if (slots.isEmpty()) {
            looping = false;
            waitingForSlot = true;
            progressed();
            return; // woken by ARBITER_CHANGED
          }
          inWait = true;
          inFlight = waiter.next(slots.size());
          inFlight.onComplete(ar -> {
            inWait = false;
            looping = false;
            if (stalled()) {
              return; // test switch: this instance's future is never continued
            }
            if (closing) {
              // undeployed while a claim was on its way: hand what it brought straight back (fenced, not counted)
              if (ar.succeeded()) {
                ar.result().forEach(c -> handBack.add(queue.release(c.id(), c.fence(), "poller restarting")));
              }
              return;
            }
            lastCycleAt = System.currentTimeMillis();
            progressed();
            List<Claimed> jobs = ar.succeeded() ? ar.result() : List.of();
            for (int i = 0; i < slots.size(); i++) {
              JsonObject slot = slots.getJsonObject(i);
              if (i < jobs.size()) {
                handOut(jobs.get(i), slot);
              } else {
                vertx.eventBus().send(Addresses.ARBITER_UNRESERVE, slot, LOCAL);
              }
            }
            loop();
          });
        });
  }

  private void handOut(Claimed c, JsonObject slot) {
    claimed++;
    String gpu = slot.getString("gpu");
    if (stopped) {
      // claimed while a shutdown began: give it straight back, without counting the attempt
      queue.release(c.id(), c.fence(), "worker shutting down");
      vertx.eventBus().send(Addresses.ARBITER_UNRESERVE, slot, LOCAL);
      return;
    }
    LOG.info("job {} claimed for {} (attempt {})", c.id(), gpu, c.job().attempts());
    JobMetrics metrics = JobMetrics.of(vertx);
    metrics.attemptStarted();
    if (c.job().readyAt() != null && c.job().startedAt() != null) {
      metrics.pickup(java.time.Duration.ofMillis(Math.max(0, c.job().startedAt() - c.job().readyAt())));
    }
    vertx.eventBus().send(Addresses.ARBITER_ASSIGN, new JsonObject().put("gpu", gpu).put("job", c.id()), LOCAL);
    JsonObject run = new JsonObject().put("job", c.job().toJson()).put("fence", c.fence()).put("gpu", gpu)
        .put("url", slot.getString("url"));
    vertx.eventBus().<JsonObject>request(Addresses.DISPATCH_RUN, run, LOCAL).onFailure(err -> {
      LOG.warn("job {}: the dispatcher did not take it ({}); handing it back to the queue", c.id(), err.getMessage());
      queue.release(c.id(), c.fence(), "dispatcher unavailable");
      vertx.eventBus().send(Addresses.ARBITER_RELEASE, new JsonObject().put("gpu", gpu).put("job", c.id()), LOCAL);
    });
  }
}
