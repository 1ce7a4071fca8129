package io.qwenedit.api;

import io.qwenedit.config.ApiConfig;
import io.qwenedit.config.Config;
import io.qwenedit.config.ConfigException;
import io.qwenedit.health.Health;
import io.qwenedit.health.HealthEndpoints;
import io.qwenedit.health.RedisHealth;
import io.qwenedit.health.ServiceHeartbeatVerticle;
import io.qwenedit.metrics.Meters;
import io.qwenedit.queue.JobEvents;
import io.qwenedit.queue.JobQueue;
import io.qwenedit.redis.RedisCommands;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.web.Router;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP API: {@code /v1/jobs} (submit, status, result, cancel, events) behind API keys and a per-key rate, plus
 * the process's {@code /health/*} and {@code /metrics} on the same port. Its Redis clients (pooled commands, one
 * shared event subscription) are registered as readiness checks {@code redis/api} and {@code redis/api-events}.
 */
public final class HttpApiVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(HttpApiVerticle.class);
  static final String CHECK_COMMANDS = "api";
  static final String CHECK_EVENTS = "api-events";
  /** API clients remembered by the rate limiter. */
  private static final int RATE_LIMIT_CLIENTS = 10_000;

  private final Config config;
  private RedisCommands redis;
  private JobEvents events;
  private HealthEndpoints health;
  private ApiMetrics metrics;
  private HttpServer server;

  public HttpApiVerticle(Config config) {
    this.config = config;
  }

  @Override
  public Future<?> start() {
    ApiConfig api = config.api();
    redis = new RedisCommands(vertx, config.redis(), "api");
    JobQueue queue = new JobQueue(redis, config.queue());
    events = new JobEvents(vertx, config.redis(), queue.keys());
    events.start();
    metrics = new ApiMetrics(Meters.registry(vertx));
    health = new HealthEndpoints(vertx, config.health().checkTimeout());

    HealthChecks readiness = Health.of(vertx).readiness();
    long checkMs = config.health().checkTimeout().toMillis();
    RedisHealth.registerCommands(readiness, CHECK_COMMANDS, redis, checkMs);
    RedisHealth.registerSubscription(readiness, CHECK_EVENTS, events::subscribed, config.redis().displayAddress(), checkMs);

    ApiAccess access = new ApiAccess(new ApiKeys(api.keys()),
        new RateLimiter(api.ratePerMinute(), api.rateBurst(), System::nanoTime, RATE_LIMIT_CLIENTS), api.ratePerMinute(), api.rateBurst());
    JobRequestReader reader = new JobRequestReader(config.queue());
    JobRoutes jobs = new JobRoutes(queue, api,
        new JobEventStream(vertx, queue, events, api.eventsMaxDuration(), api.eventsKeepAlive(), metrics), metrics);

    Router router = Router.router(vertx);
    health.mount(router);
    router.route("/v1/*").handler(access::authenticate);
    router.post("/v1/jobs").handler(access::limitSubmissions).handler(reader).handler(jobs::submit);
    router.get("/v1/jobs/:id").handler(jobs::status);
    router.delete("/v1/jobs/:id").handler(jobs::cancel);
    router.get("/v1/jobs/:id/result").handler(jobs::result);
    router.get("/v1/jobs/:id/events").handler(jobs::events);
    ApiErrors.install(router, error -> metrics.refused(error.code()));

    if (api.open()) {
      LOG.warn("API_KEYS is not set: the API answers only requests made on this machine (loopback). Set API_KEYS to"
          + " serve other clients.");
    }
    HttpServerOptions options = new HttpServerOptions()
        .setTcpKeepAlive(true)
        // nothing read or written for this long: closed (a stalled upload; event streams write keep-alives meanwhile)
        .setIdleTimeout((int) api.idleTimeout().toMillis())
        .setIdleTimeoutUnit(TimeUnit.MILLISECONDS)
        // Room for a long prompt in UTF-8 (the queue enforces MAX_PROMPT_CHARS with a clear message).
        .setMaxFormAttributeSize(Math.max(HttpServerOptions.DEFAULT_MAX_FORM_ATTRIBUTE_SIZE, config.queue().maxPromptChars() * 4 + 1024));
    server = vertx.createHttpServer(options);
    return server.requestHandler(router).listen(api.port(), api.host())
        .onSuccess(s -> LOG.info("HTTP API on http://{}:{} ({}; also /health/live, /health/ready, /metrics)", api.host(),
            s.actualPort(), api.open() ? "no API keys: loopback only" : api.keys().size() + " API key(s)"))
        .recover(err -> Future.failedFuture(new ConfigException("Cannot serve the API on " + api.host() + ":" + api.port()
            + " (HTTP_HOST:HTTP_PORT): " + err.getMessage() + ". Choose a free port with HTTP_PORT.")))
        // listed by `status` while it runs (a child deployment: it goes when this verticle is undeployed)
        .compose(s -> vertx.deployVerticle(new ServiceHeartbeatVerticle(config, "api",
            "api-" + JobQueue.newId(),
            () -> new JsonObject().put("port", s.actualPort()).put("open", api.open()))));
  }

  public int port() {
    return server.actualPort();
  }

  @Override
  public Future<?> stop() {
    HealthChecks readiness = Health.of(vertx).readiness();
    readiness.unregister("redis/" + CHECK_COMMANDS);
    readiness.unregister("redis/" + CHECK_EVENTS);
    metrics.close();
    // The subscription first: closed deliberately, it does not log a lost connection and try again.
    return events.close()
        .eventually(() -> server.close())
        .eventually(() -> health.close())
        .eventually(() -> redis.close());
  }
}
