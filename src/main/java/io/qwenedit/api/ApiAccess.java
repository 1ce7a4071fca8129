package io.qwenedit.api;

import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The two gates in front of {@code /v1}: who is calling ({@link ApiKeys}; the client's name is put in the routing
 * context) and, for submissions, whether that client is over its rate ({@link RateLimiter}). Both run before the
 * body is read, so a refused client's upload is never taken in.
 */
final class ApiAccess {
  private static final Logger LOG = LoggerFactory.getLogger(ApiAccess.class);
  private static final String CLIENT = "qwenedit.client";

  private final ApiKeys keys;
  private final RateLimiter submissions;
  private final int perMinute;
  private final int burst;

  ApiAccess(ApiKeys keys, RateLimiter submissions, int perMinute, int burst) {
    this.keys = keys;
    this.submissions = submissions;
    this.perMinute = perMinute;
    this.burst = burst;
  }

  /** The caller's name: an API key's fingerprint, or {@code local} when the API runs without keys. */
  static String client(RoutingContext ctx) {
    return ctx.get(CLIENT);
  }

  void authenticate(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    String presented = ApiKeys.presented(req.getHeader("Authorization"), req.getHeader("X-API-Key"));
    boolean forwarded = req.getHeader("Forwarded") != null || req.getHeader("X-Forwarded-For") != null;
    String peer = req.remoteAddress() == null ? null : req.remoteAddress().hostAddress();
    ApiKeys.Verdict verdict = keys.check(presented, peer, forwarded);
    if (!verdict.allowed()) {
      // The key is never logged, not even a wrong one (it may be a real key for another system).
      LOG.info("refused {} {} from {}: {}", req.method(), req.path(), peer, verdict.code());
      ApiException error = new ApiException(verdict.status(), verdict.code(), verdict.message());
      if (verdict.status() == 401) {
        error.header("WWW-Authenticate", "Bearer realm=\"qwenedit\"");
      }
      ctx.fail(error);
      return;
    }
    ctx.put(CLIENT, verdict.client());
    ctx.next();
  }

  void limitSubmissions(RoutingContext ctx) {
    String client = client(ctx);
    RateLimiter.Decision d = submissions.acquire(client);
    if (!d.allowed()) {
      LOG.info("client {} is over its submission rate; retry after {} s", client, d.retryAfterSeconds());
      ctx.fail(new ApiException(429, "rate_limited", "Too many submissions: this API key may submit " + perMinute
          + " jobs per minute (" + burst + " at once). Try again in " + d.retryAfterSeconds() + " s.")
          .retryAfter(d.retryAfterSeconds()));
      return;
    }
    ctx.next();
  }
}
