package io.qwenedit.comfy;

import io.qwenedit.metrics.JobMetrics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * HTTP to one ComfyUI server over a bounded pool of kept-alive connections. Every call has its own time limit, and
 * every failure (no connection, no answer in time, a 5xx, something that is not JSON) becomes a
 * {@link ComfyException} with a readable message, never a raw stack trace.
 */
final class ComfyHttp {
  private final WebClient client;
  private final String base;
  private final Duration limit;
  private final JobMetrics metrics;

  ComfyHttp(Vertx vertx, URI baseUrl, ComfyClientOptions options) {
    this.metrics = JobMetrics.of(vertx);
    String b = baseUrl.toString();
    this.base = b.endsWith("/") ? b.substring(0, b.length() - 1) : b;
    this.limit = options.requestTimeout();
    WebClientOptions web = new WebClientOptions()
        .setKeepAlive(true)
        // aiohttp closes idle keep-alive connections after 75 s; closing ours first avoids reusing one it just dropped.
        .setKeepAliveTimeout(50)
        .setConnectTimeout((int) Math.min(limit.toMillis(), 10_000))
        .setTcpKeepAlive(true)
        .setUserAgent("qwenedit")
        .setMaxHeaderSize(64 * 1024)
        .setDecompressionSupported(true);
    PoolOptions pool = new PoolOptions().setHttp1MaxSize(options.poolSize()).setMaxWaitQueueSize(256);
    this.client = WebClient.create(vertx, web, pool);
  }

  String base() {
    return base;
  }

  void close() {
    client.close();
  }

  /** Sends a request: {@code body} is a JsonObject, a MultipartBody or null; {@code transfer} allows 3x the limit. */
  Future<HttpResponse<Buffer>> send(HttpMethod method, String path, Map<String, String> query, Object body, boolean transfer) {
    String what = method.name() + " " + path;
    long ms = limit.toMillis();
    HttpRequest<Buffer> req = client.requestAbs(method, base + path).timeout(ms);
    if (query != null) {
      query.forEach(req::addQueryParam);
    }
    long started = System.nanoTime();
    Future<HttpResponse<Buffer>> f;
    if (body instanceof JsonObject json) {
      f = req.sendJsonObject(json);
    } else if (body instanceof MultipartBody form) {
      f = req.putHeader("Content-Type", form.contentType()).sendBuffer(form.toBuffer());
    } else {
      f = req.send();
    }
    return f.timeout(transfer ? 3 * ms : ms + 500, TimeUnit.MILLISECONDS)
        .andThen(ar -> metrics.comfyRequest(path, Duration.ofNanos(System.nanoTime() - started),
            ar.failed() || ar.result().statusCode() >= 400))
        .recover(e -> Future.failedFuture(failure(what, e)));
  }

  /** A 2xx answer, else a 5xx (retryable) or other status (not retryable) error. */
  Future<HttpResponse<Buffer>> ok(HttpMethod method, String path, Map<String, String> query, Object body, boolean transfer) {
    return send(method, path, query, body, transfer).compose(r -> {
      if (r.statusCode() / 100 == 2) {
        return Future.succeededFuture(r);
      }
      return Future.failedFuture(status(method.name() + " " + path, r));
    });
  }

  /** GET that must answer 200 with a JSON object. */
  Future<JsonObject> getJson(String path, Map<String, String> query) {
    return ok(HttpMethod.GET, path, query, null, false).map(r -> json(r, "GET " + path));
  }

  Future<Void> postJson(String path, JsonObject body) {
    return ok(HttpMethod.POST, path, null, body, false).mapEmpty();
  }

  ComfyException status(String what, HttpResponse<Buffer> r) {
    String body = ComfyErrors.snippet(r.bodyAsString(), 200);
    if (r.statusCode() >= 500) {
      return ComfyException.retryable(ComfyErrors.HTTP_5XX, "ComfyUI at " + base + " answered " + r.statusCode() + " to " + what
          + (body.isEmpty() ? "" : ": " + body));
    }
    return ComfyException.permanent(ComfyErrors.HTTP_ERROR, "ComfyUI at " + base + " answered " + r.statusCode() + " to " + what
        + (body.isEmpty() ? "" : ": " + body) + " (is this URL a ComfyUI server?)");
  }

  JsonObject json(HttpResponse<Buffer> r, String what) {
    try {
      Buffer b = r.body();
      if (b == null || b.length() == 0) {
        throw new DecodeException("empty body");
      }
      return new JsonObject(b);
    } catch (DecodeException | ClassCastException e) {
      throw ComfyException.retryable(ComfyErrors.BAD_RESPONSE, "ComfyUI at " + base + " answered " + what
          + " with something that is not a JSON object: " + ComfyErrors.snippet(r.bodyAsString(), 120));
    }
  }

  ComfyException failure(String what, Throwable e) {
    if (e instanceof ComfyException c) {
      return c;
    }
    String msg = e.getMessage() == null ? e.getClass().getSimpleName() : ComfyErrors.firstLine(e.getMessage());
    if (e instanceof TimeoutException || msg.toLowerCase(java.util.Locale.ROOT).contains("timeout")
        || msg.toLowerCase(java.util.Locale.ROOT).contains("timed out")) {
      return ComfyException.retryable(ComfyErrors.UNREACHABLE, "ComfyUI at " + base + " did not answer " + what + " within "
          + limit.toMillis() / 1000.0 + " s");
    }
    return ComfyException.retryable(ComfyErrors.UNREACHABLE, "ComfyUI at " + base + " is unreachable (" + what + ": " + msg + ")");
  }
}
