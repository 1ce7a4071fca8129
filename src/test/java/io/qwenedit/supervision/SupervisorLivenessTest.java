package io.qwenedit.supervision;

import static io.qwenedit.testing.Await.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qwenedit.health.Health;
import io.qwenedit.testing.Await;
import io.qwenedit.worker.Addresses;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * When redeploying does not bring progress back, the supervisor declares the process not live (so a process manager
 * restarts it): a verticle that stalls again after every redeploy, and an event loop blocked past the limit. A healthy
 * verticle never does.
 */
class SupervisorLivenessTest {
  private static final Duration WAIT = Duration.ofSeconds(15);

  private Vertx vertx;

  @AfterEach
  void closeVertx() throws Exception {
    if (vertx != null) {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  /** A child that, once started, promises progress within 300 ms; {@code moving} decides whether it keeps it. */
  private static final class Child extends SupervisedVerticle {
    private final String name;
    private final boolean moving;
    private final AtomicInteger starts;
    private long timer = -1;

    Child(String name, boolean moving, AtomicInteger starts) {
      super(false);
      this.name = name;
      this.moving = moving;
      this.starts = starts;
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    protected long progressDueWithinMs() {
      return 300;
    }

    @Override
    protected Future<?> startService() {
      starts.incrementAndGet();
      if (moving) {
        timer = vertx.setPeriodic(30, t -> progressed());
      }
      // "block": this instance's event loop is blocked for 1.5 s, as by a synchronous call that never returns in time
      consume("test.block." + name, msg -> {
        long until = System.nanoTime() + 1_500_000_000L;
        while (System.nanoTime() < until) {
          Thread.onSpinWait();
        }
      });
      return Future.succeededFuture();
    }

    @Override
    protected Future<?> stopService() {
      vertx.cancelTimer(timer);
      return Future.succeededFuture();
    }
  }

  private SupervisorVerticle.Options options(int notLiveAfter) {
    return new SupervisorVerticle.Options(Duration.ofMillis(50), Duration.ofMillis(500), 3, Duration.ofSeconds(2),
        Duration.ofMillis(100), notLiveAfter, Duration.ofMinutes(1), Duration.ofMillis(600));
  }

  private void start(List<SupervisorVerticle.Child> children, int notLiveAfter) {
    vertx = Vertx.vertx(new VertxOptions().setBlockedThreadCheckInterval(100).setMaxEventLoopExecuteTime(200)
        .setMaxEventLoopExecuteTimeUnit(TimeUnit.MILLISECONDS));
    await(vertx.deployVerticle(new SupervisorVerticle(children, options(notLiveAfter))));
  }

  private JsonObject stateOf(String name) {
    JsonObject reply = await(vertx.eventBus().<JsonObject>request(Addresses.SUPERVISOR_STATE, null)).body();
    JsonArray verticles = reply.getJsonArray("verticles");
    for (int i = 0; i < verticles.size(); i++) {
      if (name.equals(verticles.getJsonObject(i).getString("name"))) {
        return verticles.getJsonObject(i);
      }
    }
    throw new AssertionError("no verticle " + name + " in " + reply);
  }

  @Test
  void aVerticleThatStallsAfterEveryRedeployMakesTheProcessNotLive() {
    AtomicInteger starts = new AtomicInteger();
    start(List.of(new SupervisorVerticle.Child("stuck", () -> new Child("stuck", false, starts))), 3);
    Health health = Health.of(vertx);

    Await.until("the first redeploy", WAIT, () -> starts.get() >= 2);
    assertTrue(health.live(), "one redeploy is the supervisor's job, not a reason to restart the process");

    Await.until("the process declared not live", WAIT, () -> !health.live());
    assertTrue(health.notLiveReason().startsWith("verticle stuck was redeployed 3 times in 60 s and still does not progress: no progress for"),
        health.notLiveReason());
    assertTrue(stateOf("stuck").getLong("redeploys") >= 3, stateOf("stuck").encode());
  }

  @Test
  void anEventLoopBlockedPastTheLimitMakesTheProcessNotLive() {
    AtomicInteger starts = new AtomicInteger();
    start(List.of(new SupervisorVerticle.Child("blocker", () -> new Child("blocker", true, starts))), 5);
    Health health = Health.of(vertx);
    Await.until("the verticle answers pings", WAIT, () -> "ok".equals(stateOf("blocker").getString("status")));
    assertTrue(health.live());

    vertx.eventBus().send("test.block.blocker", null);

    Await.until("the process declared not live", WAIT, () -> !health.live());
    assertTrue(health.notLiveReason().matches("thread vert\\.x-eventloop-thread-\\d+ blocked for \\d+ ms"), health.notLiveReason());
  }

  @Test
  void aVerticleThatKeepsMovingIsNeverRedeployedAndTheProcessStaysLive() throws InterruptedException {
    AtomicInteger starts = new AtomicInteger();
    start(List.of(new SupervisorVerticle.Child("busy", () -> new Child("busy", true, starts))), 1);
    Await.until("the verticle answers pings", WAIT, () -> "ok".equals(stateOf("busy").getString("status")));
    Thread.sleep(1_000); // twenty check intervals, each of which would notice a missed promise
    assertTrue(Health.of(vertx).live(), Health.of(vertx).notLiveReason());
    assertEquals(1, starts.get());
    assertEquals(0L, stateOf("busy").getLong("redeploys"));
  }

  /** Start 1 makes no progress (so it is redeployed), start 2 never ends until {@code release}, later ones move. */
  private static final class SlowStarter extends SupervisedVerticle {
    private final AtomicInteger starts;
    private final io.vertx.core.Promise<Void> release;
    private long timer = -1;

    SlowStarter(AtomicInteger starts, io.vertx.core.Promise<Void> release) {
      super(false);
      this.starts = starts;
      this.release = release;
    }

    @Override
    public String name() {
      return "slow";
    }

    @Override
    protected long progressDueWithinMs() {
      return 300;
    }

    @Override
    protected Future<?> startService() {
      int n = starts.incrementAndGet();
      if (n == 2) {
        return release.future(); // a start that hangs (a client that never connects, say)
      }
      if (n > 2) {
        timer = vertx.setPeriodic(30, t -> progressed());
      }
      return Future.succeededFuture();
    }

    @Override
    protected Future<?> stopService() {
      vertx.cancelTimer(timer);
      return Future.succeededFuture();
    }
  }

  @Test
  void aStartThatNeverEndsIsGivenUpOnAndTheVerticleIsStartedAgain() {
    AtomicInteger starts = new AtomicInteger();
    io.vertx.core.Promise<Void> release = io.vertx.core.Promise.promise();
    try {
      start(List.of(new SupervisorVerticle.Child("slow", () -> new SlowStarter(starts, release))), 100);
      Await.until("the hung second start given up on and a third one made", WAIT, () -> starts.get() >= 3);
      Await.until("the third instance answers pings", WAIT, () -> "ok".equals(stateOf("slow").getString("status")));
    } finally {
      release.tryComplete(); // the hung start ends late: that instance is undeployed, not adopted
    }
    Await.until("still one instance running, the third", WAIT, () -> "ok".equals(stateOf("slow").getString("status")));
    assertEquals(3, starts.get());
  }
}
