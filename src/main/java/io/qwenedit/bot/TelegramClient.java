package io.qwenedit.bot;

import io.qwenedit.config.BotConfig;
import io.qwenedit.metrics.JobMetrics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.ext.web.multipart.MultipartForm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * Plain HTTP calls to the Bot API ({@code <TELEGRAM_API_URL>/bot<token>/<method>}): JSON bodies for ordinary
 * methods, multipart for uploads, and file downloads ({@code /file/bot<token>/<path>}, or an absolute path from a
 * local Bot API server in {@code --local} mode). Every call has a read limit, after which the connection is dropped;
 * every failure becomes a {@link TelegramApiException}. The token is part of the URL only, never of a message.
 */
public final class TelegramClient {
  private static final int LOCAL_FILE_THREADS = 4;

  private final Vertx vertx;
  private final WebClient web;
  private final String apiBase;
  private final String fileBase;
  private final long readLimitMs;
  private final JobMetrics metrics;
  private WorkerExecutor localFiles;

  /**
   * @param poolSize connections kept alive to the Bot API
   * @param readLimitMs default read limit of a call (the long poll passes its own)
   */
  public TelegramClient(Vertx vertx, BotConfig cfg, JobMetrics metrics, int poolSize, long readLimitMs) {
    this.vertx = vertx;
    this.metrics = metrics;
    this.readLimitMs = readLimitMs;
    String base = cfg.apiUrl().toString().replaceAll("/+$", "");
    this.apiBase = base + "/bot" + cfg.requireToken() + "/";
    this.fileBase = base + "/file/bot" + cfg.requireToken() + "/";
    WebClientOptions options = new WebClientOptions()
        .setKeepAlive(true)
        .setConnectTimeout(10_000)
        .setTcpKeepAlive(true)
        .setUserAgent("qwenedit-bot")
        .setFollowRedirects(false);
    this.web = WebClient.create(vertx, options, new PoolOptions().setHttp1MaxSize(poolSize).setMaxWaitQueueSize(10_000));
  }

  /** Calls a method with a JSON body; resolves with Telegram's {@code result} (a JsonObject, JsonArray or Boolean). */
  public Future<Object> call(String method, JsonObject params) {
    return call(method, params, readLimitMs);
  }

  public Future<Object> call(String method, JsonObject params, long limitMs) {
    HttpRequest<Buffer> req = web.requestAbs(HttpMethod.POST, apiBase + method).idleTimeout(limitMs);
    return finish(req.sendJsonObject(params == null ? new JsonObject() : params), limitMs, this::parse);
  }

  /**
   * Uploads a file as the multipart part {@code field} ({@code photo} for sendPhoto, {@code document} for
   * sendDocument); the other parameters go as form fields, objects JSON-encoded.
   */
  public Future<Object> upload(String method, JsonObject params, String field, String fileName, String contentType, Buffer data) {
    MultipartForm form = MultipartForm.create();
    params.forEach(e -> {
      Object v = e.getValue();
      if (v != null) {
        form.attribute(e.getKey(), v instanceof JsonObject || v instanceof JsonArray ? v.toString() : String.valueOf(v));
      }
    });
    form.binaryFileUpload(field, fileName, data, contentType);
    HttpRequest<Buffer> req = web.requestAbs(HttpMethod.POST, apiBase + method).idleTimeout(readLimitMs);
    return finish(req.sendMultipartForm(form), readLimitMs, this::parse);
  }

  /** Reads the answer to a request sent with read limit {@code limitMs}; every failure is counted. */
  private <T> Future<T> finish(Future<HttpResponse<Buffer>> sent, long limitMs, Function<HttpResponse<Buffer>, Future<T>> read) {
    // The idle timeout drops a silent connection; the future's own limit is a backstop in case it never fires.
    return sent.timeout(limitMs + 5_000, TimeUnit.MILLISECONDS)
        .recover(err -> Future.failedFuture(TelegramApiException.network(reason(err))))
        .compose(read)
        .onFailure(this::countError);
  }

  private Future<Object> parse(HttpResponse<Buffer> resp) {
    JsonObject body;
    try {
      body = resp.body() == null ? null : resp.bodyAsJsonObject();
    } catch (RuntimeException e) {
      body = null;
    }
    if (body == null) {
      // A proxy's HTML error page or an empty answer: keep the status, it decides whether to retry.
      int code = resp.statusCode() >= 400 ? resp.statusCode() : 502;
      return Future.failedFuture(new TelegramApiException(code, "HTTP " + resp.statusCode() + " without a Bot API answer", -1, null));
    }
    if (Boolean.TRUE.equals(body.getBoolean("ok"))) {
      return Future.succeededFuture(body.getValue("result"));
    }
    return Future.failedFuture(TelegramApiException.fromResponse(resp.statusCode(), body));
  }

  /** Downloads a file {@code getFile} pointed at. */
  public Future<Buffer> download(String filePath) {
    if (filePath.startsWith("/")) {
      // A local Bot API server in --local mode answers getFile with an absolute path on a shared disk.
      // A disk that stops answering (a network mount whose server is gone) must not hold the person's request for ever;
      // the read runs on threads of its own, so reads hung there cannot take every thread the bot's other files use.
      return localFiles().executeBlocking(() -> Buffer.buffer(Files.readAllBytes(Path.of(filePath))), false)
          .timeout(readLimitMs, TimeUnit.MILLISECONDS)
          .recover(err -> Future.failedFuture(new TelegramApiException(404, err instanceof TimeoutException
              ? "the local file " + filePath + " could not be read within " + readLimitMs + " ms"
              : "cannot read the local file " + filePath + " (" + err + ")", -1, null)));
    }
    return finish(web.requestAbs(HttpMethod.GET, fileBase + filePath).idleTimeout(readLimitMs).send(), readLimitMs,
        resp -> resp.statusCode() == 200 ? Future.succeededFuture(resp.body() == null ? Buffer.buffer() : resp.body())
            : Future.failedFuture(new TelegramApiException(resp.statusCode(), "file download answered HTTP " + resp.statusCode(), -1, null)));
  }

  private WorkerExecutor localFiles() {
    if (localFiles == null) {
      // shared by name: one small pool for every client of this Vert.x, closed with the verticles that use it
      localFiles = vertx.createSharedWorkerExecutor("qwenedit-telegram-local-files", LOCAL_FILE_THREADS);
    }
    return localFiles;
  }

  private void countError(Throwable err) {
    metrics.telegramError(err instanceof TelegramApiException t ? t.metricCode() : "other");
  }

  private static String reason(Throwable err) {
    if (err instanceof TimeoutException || err.getClass().getSimpleName().contains("Timeout")) {
      return TelegramApiException.NO_ANSWER;
    }
    String m = err.getMessage();
    if (m == null || m.isBlank()) {
      return err.getClass().getSimpleName();
    }
    // Never echo a URL: it carries the token.
    return m.replaceAll("https?://\\S+", "<url>");
  }

  public void close() {
    web.close();
  }
}
