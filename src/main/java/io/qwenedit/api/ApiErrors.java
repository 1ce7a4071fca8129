package io.qwenedit.api;

import io.qwenedit.queue.JobRejectedException;
import io.qwenedit.redis.RedisUnavailableException;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns every failure into the JSON error body {@code {"error":{"code","message"}}} with the right status: our own
 * {@link ApiException}s, refused jobs, Redis outages, and the router's own 404/405/413. Never a stack trace: an
 * unexpected exception is logged here, once, and the client gets a short message with the request's path.
 */
public final class ApiErrors {
  private static final Logger LOG = LoggerFactory.getLogger(ApiErrors.class);
  /** How long a client should wait when Redis is unreachable. */
  static final int UNAVAILABLE_RETRY_AFTER_S = 5;

  private ApiErrors() {}

  /** Installs the failure handler on every route and JSON answers for unmatched paths and methods. */
  public static Router install(Router router) {
    return install(router, error -> { });
  }

  /** Same; {@code observer} sees every error answered (for metrics). */
  public static Router install(Router router, Consumer<ApiException> observer) {
    Handler<RoutingContext> handler = ctx -> handle(ctx, observer);
    router.route().failureHandler(handler);
    for (int status : new int[] {400, 404, 405, 413, 415, 500}) {
      router.errorHandler(status, handler);
    }
    return router;
  }

  public static JsonObject body(String code, String message) {
    return new JsonObject().put("error", new JsonObject().put("code", code).put("message", message));
  }

  /** The HTTP status for a job refused by the queue (its code names the reason). */
  public static int statusOf(String rejectionCode) {
    switch (rejectionCode) {
      case "image_too_large":
      case "image_too_many_pixels":
        return 413;
      case "not_an_image":
        return 415;
      case "queue_full":
        return 429;
      default:
        // prompt_missing, prompt_too_long, image_missing, bad_input and any code added later: the input is wrong.
        return 400;
    }
  }

  /** Maps any failure to the error the client sees. */
  public static ApiException toApiException(Throwable failure, int statusCode, String method, String path) {
    if (failure instanceof ApiException api) {
      return api;
    }
    if (failure instanceof JobRejectedException rejected) {
      return new ApiException(statusOf(rejected.code()), rejected.code(), rejected.getMessage());
    }
    if (failure instanceof RedisUnavailableException) {
      return new ApiException(503, "unavailable", "The service cannot reach its job queue right now. Please try again in a few"
          + " seconds.").retryAfter(UNAVAILABLE_RETRY_AFTER_S);
    }
    int status = failure instanceof HttpException http ? http.getStatusCode() : failure == null ? statusCode : 500;
    switch (status) {
      case 400:
        return new ApiException(400, "bad_request", "The request could not be understood" + detail(failure) + ".");
      case 404:
        return new ApiException(404, "not_found", "There is nothing at " + method + " " + path + ". The endpoints are listed in docs/api.md.");
      case 405:
        return new ApiException(405, "method_not_allowed", "The method " + method + " is not allowed on " + path + ".");
      case 413:
        return new ApiException(413, "request_too_large", "The request body is too large.").closing();
      case 415:
        return new ApiException(415, "unsupported_media_type", "The request's Content-Type is not supported here.");
      default:
        return new ApiException(status >= 400 && status < 600 ? status : 500, "internal_error",
            "Something went wrong on our side while handling " + method + " " + path + ". Please try again; if it keeps"
                + " happening, tell the operator the time of the request.");
    }
  }

  private static String detail(Throwable failure) {
    return failure == null || failure.getMessage() == null || failure.getMessage().isBlank() ? "" : ": " + failure.getMessage();
  }

  private static void handle(RoutingContext ctx, Consumer<ApiException> observer) {
    Throwable failure = ctx.failure();
    int statusCode = ctx.statusCode();
    String method = ctx.request().method().name();
    String path = ctx.request().path();
    ApiException error = toApiException(failure, statusCode, method, path);
    if (error.status() >= 500 && !(failure instanceof ApiException) && !(failure instanceof RedisUnavailableException)) {
      LOG.error("{} {} failed with an unexpected error", method, path, failure);
    }
    observer.accept(error);
    send(ctx, error);
  }

  private static boolean bodyStillComing(HttpServerRequest req) {
    if (req.isEnded()) {
      return false;
    }
    String length = req.getHeader(HttpHeaders.CONTENT_LENGTH);
    return req.getHeader(HttpHeaders.TRANSFER_ENCODING) != null || (length != null && !"0".equals(length.strip()));
  }

  private static final long LINGER_MS = 1_000;

  /** Writes the error (or, if an answer has already begun, as with an event stream, closes the connection). */
  public static void send(RoutingContext ctx, ApiException error) {
    HttpServerResponse response = ctx.response();
    if (response.ended() || response.closed()) {
      return;
    }
    if (response.headWritten()) {
      ctx.request().connection().close();
      return;
    }
    response.setStatusCode(error.status())
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json; charset=utf-8")
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-store");
    error.headers().forEach(response::putHeader);
    // A refused request whose body is still coming (401, 429, 413 before reading it): answer, then hang up, so the
    // client stops sending instead of uploading megabytes nobody will read.
    boolean close = error.closeConnection() || bodyStillComing(ctx.request());
    if (close) {
      response.putHeader(HttpHeaders.CONNECTION, "close");
    }
    response.end(body(error.code(), error.getMessage()).encode()).onComplete(ar -> {
      if (close) {
        lingerThenClose(ctx);
      }
    });
  }

  /**
   * Hangs up once the rest of the body has arrived, or after {@link #LINGER_MS}: closing at once, while the client is
   * still sending, makes its network stack reset the connection, and many clients then lose the answer they were sent
   * (they see "connection closed" instead of the 413). What arrives meanwhile is read and dropped.
   */
  private static void lingerThenClose(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    HttpConnection conn = req.connection();
    if (req.isEnded()) {
      conn.close();
      return;
    }
    long timer = ctx.vertx().setTimer(LINGER_MS, t -> conn.close());
    try {
      req.endHandler(v -> {
        ctx.vertx().cancelTimer(timer);
        conn.close();
      });
      req.resume();
    } catch (IllegalStateException alreadyRead) {
      ctx.vertx().cancelTimer(timer);
      conn.close();
    }
  }
}
