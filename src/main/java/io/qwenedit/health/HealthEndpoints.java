package io.qwenedit.health;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.qwenedit.api.ApiErrors;
import io.qwenedit.api.ApiException;
import io.qwenedit.metrics.Meters;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.CheckResult;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.micrometer.PrometheusScrapingHandler;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The HTTP side of {@link Health}: {@code /health/live}, {@code /health/ready} (and {@code /health/ready/<check>})
 * and {@code /metrics}, mountable on any router: the health server of every role and the API's own router. Answers
 * are the Vert.x Health Checks JSON with 200 when every check is UP and 503 otherwise; a check that does not answer
 * within its time limit counts as DOWN (never a hang, never a 500).
 */
public final class HealthEndpoints {
  /** Event-bus address the liveness check pings; whoever mounts the endpoints answers it. */
  public static final String PING_ADDRESS = "qwenedit.health.ping";

  private final Vertx vertx;
  private final long limitMs;
  private final HealthChecks liveness;
  private final Handler<RoutingContext> scrape;
  private MessageConsumer<String> pingConsumer;

  public HealthEndpoints(Vertx vertx, Duration checkTimeout) {
    this.vertx = vertx;
    this.limitMs = checkTimeout.toMillis();
    this.liveness = HealthChecks.create(vertx);
    // The probe gets most of the limit for itself, so it can report which loops did not answer before the check's
    // own time limit turns it into a bare timeout.
    long probeMs = Math.max(10, limitMs * 3 / 4);
    liveness.register("process", limitMs, promise -> {
      Health health = Health.of(vertx);
      promise.tryComplete(health.live() ? Status.OK()
          : Status.KO(new JsonObject().put("reason", health.notLiveReason())));
    });
    liveness.register("event-loops", limitMs, promise -> EventLoopProbe.probe(vertx, probeMs)
        .onSuccess(verdict -> promise.tryComplete(verdict.getBoolean("ok") ? Status.OK(verdict) : Status.KO(verdict))));
    liveness.register("event-bus", limitMs, promise -> vertx.eventBus()
        .request(PING_ADDRESS, "ping", new DeliveryOptions().setSendTimeout(probeMs).setLocalOnly(true))
        .onSuccess(reply -> promise.tryComplete(Status.OK()))
        .onFailure(err -> promise.tryComplete(Status.KO(new JsonObject().put("error", String.valueOf(err.getMessage()))))));
    PrometheusMeterRegistry prometheus = Meters.prometheus(vertx);
    this.scrape = prometheus == null ? null : PrometheusScrapingHandler.create(prometheus);
  }

  /** Adds the routes and registers the event-bus ping answer (on the caller's context: call it from start()). */
  public Router mount(Router router) {
    pingConsumer = vertx.eventBus().localConsumer(PING_ADDRESS, msg -> msg.reply("pong"));
    router.get("/health/live").handler(this::live);
    router.get("/health/ready").handler(this::ready);
    router.get("/health/ready/*").handler(this::readyOne);
    router.get("/metrics").handler(this::metrics);
    return router;
  }

  /** The liveness procedures (process verdict, event loops, event bus). */
  public HealthChecks liveness() {
    return liveness;
  }

  private void live(RoutingContext ctx) {
    respond(ctx, liveness.checkStatus());
  }

  private void ready(RoutingContext ctx) {
    respond(ctx, Health.of(vertx).readiness().checkStatus());
  }

  private void readyOne(RoutingContext ctx) {
    String name = ctx.pathParam("*");
    if (name == null || name.isBlank()) {
      ready(ctx);
      return;
    }
    Health.of(vertx).readiness().checkStatus(name)
        .onSuccess(result -> write(ctx, result))
        .onFailure(err -> ApiErrors.send(ctx, new ApiException(404, "no_such_check",
            "There is no readiness check named '" + name + "'; GET /health/ready lists them.")));
  }

  private void respond(RoutingContext ctx, Future<CheckResult> check) {
    // Each procedure has its own limit; this outer one only guards against a procedure registered without one.
    check.timeout(limitMs + 1000, TimeUnit.MILLISECONDS)
        .onSuccess(result -> write(ctx, result))
        .onFailure(err -> {
          JsonObject body = new JsonObject().put("status", "DOWN").put("outcome", "DOWN")
              .put("data", new JsonObject().put("error", "the checks did not answer within " + (limitMs + 1000) + " ms"));
          ctx.response().setStatusCode(503).putHeader(HttpHeaders.CONTENT_TYPE, "application/json; charset=utf-8")
              .putHeader(HttpHeaders.CACHE_CONTROL, "no-store").end(body.encode());
        });
  }

  private static void write(RoutingContext ctx, CheckResult result) {
    boolean up = CheckResult.isUp(result);
    ctx.response().setStatusCode(up ? 200 : 503)
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json; charset=utf-8")
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
        .end(result.toJson().encode());
  }

  private void metrics(RoutingContext ctx) {
    if (scrape == null) {
      ApiErrors.send(ctx, new ApiException(404, "metrics_disabled",
          "This process was started without metrics (its Vert.x was not built with Meters.vertxWithMetrics)."));
      return;
    }
    scrape.handle(ctx);
  }

  /** Unregisters the event-bus ping answer. */
  public Future<Void> close() {
    return pingConsumer == null ? Future.succeededFuture() : pingConsumer.unregister();
  }
}
