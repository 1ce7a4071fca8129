package io.qwenedit.comfy;

import io.qwenedit.metrics.JobMetrics;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ClientWebSocket;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one WebSocket a {@link ComfyClient} keeps to its server ({@code /ws?clientId=}): frames large enough for
 * full-size previews, a ping every {@code pingInterval} and a read-idle limit of three of them (so a peer that went
 * silent is noticed), and reconnection with capped, jittered back-off while dispatches need it. Messages are hints;
 * after every reconnect the client reconciles over HTTP.
 */
final class ComfySocket {
  private static final Logger LOG = LoggerFactory.getLogger(ComfySocket.class);
  private static final int MAX_MESSAGE = 64 * 1024 * 1024;

  /** What the socket tells its owner (always on the owner's context). */
  interface Events {
    void onText(JsonObject message);

    void onBinary(Buffer frame);

    /** Connected; {@code reconnect} is false for the first connection of this client. */
    void onOpen(boolean reconnect);

    void onClose();

    /** Whether a lost socket should be reconnected now (some dispatch is following a prompt). */
    boolean wanted();
  }

  private final Vertx vertx;
  private final WebSocketClient client;
  private final WebSocketConnectOptions connect;
  private final long pingMs;
  private final Events events;
  private final JobMetrics metrics;
  private WebSocket socket;
  private Future<Void> connecting;
  private long pingTimer = -1;
  private long retryTimer = -1;
  private long backoffMs = 100;
  private boolean everOpened;
  private boolean closed;

  ComfySocket(Vertx vertx, URI base, ComfyClientOptions options, Events events) {
    this.vertx = vertx;
    this.events = events;
    this.metrics = JobMetrics.of(vertx);
    this.pingMs = options.pingInterval().toMillis();
    this.client = vertx.createWebSocketClient(new WebSocketClientOptions()
        .setMaxFrameSize(MAX_MESSAGE)
        .setMaxMessageSize(MAX_MESSAGE)
        .setConnectTimeout((int) Math.min(options.requestTimeout().toMillis(), 10_000))
        .setIdleTimeoutUnit(TimeUnit.MILLISECONDS)
        .setReadIdleTimeout((int) Math.min(Integer.MAX_VALUE, 3 * pingMs))
        .setClosingTimeout(2)
        .setTcpKeepAlive(true));
    String path = base.getRawPath() == null ? "" : base.getRawPath().replaceAll("/+$", "");
    boolean ssl = "https".equalsIgnoreCase(base.getScheme());
    int port = base.getPort() > 0 ? base.getPort() : ssl ? 443 : 80;
    this.connect = new WebSocketConnectOptions()
        .setHost(base.getHost())
        .setPort(port)
        .setSsl(ssl)
        .setURI(path + "/ws?clientId=" + URLEncoder.encode(options.clientId(), StandardCharsets.UTF_8))
        .setTimeout(options.requestTimeout().toMillis());
  }

  boolean isOpen() {
    return socket != null;
  }

  /** Connects if not connected; resolves when open (fails when the server cannot be reached). Call on the context. */
  Future<Void> connect() {
    if (closed) {
      return Future.failedFuture("the ComfyUI client is closed");
    }
    if (socket != null) {
      return Future.succeededFuture();
    }
    if (connecting != null) {
      return connecting;
    }
    if (retryTimer >= 0) {
      vertx.cancelTimer(retryTimer);
      retryTimer = -1;
    }
    Promise<Void> done = Promise.promise();
    connecting = done.future();
    ClientWebSocket ws = client.webSocket();
    ws.textMessageHandler(text -> {
      JsonObject msg;
      try {
        msg = new JsonObject(text);
      } catch (RuntimeException e) {
        LOG.debug("ignoring a WebSocket message that is not JSON: {}", ComfyErrors.snippet(text, 80));
        return;
      }
      events.onText(msg);
    });
    ws.binaryMessageHandler(events::onBinary);
    ws.exceptionHandler(e -> LOG.debug("ComfyUI WebSocket error: {}", e.toString()));
    ws.closeHandler(v -> onClosed(ws));
    long started = System.nanoTime();
    ws.connect(connect).onComplete(ar -> {
      connecting = null;
      metrics.comfyRequest("/ws", java.time.Duration.ofNanos(System.nanoTime() - started), ar.failed());
      if (ar.failed()) {
        done.fail(ar.cause());
        scheduleReconnect();
        return;
      }
      if (closed) {
        ws.close();
        done.fail("the ComfyUI client is closed");
        return;
      }
      socket = ws;
      backoffMs = 100;
      boolean reconnect = everOpened;
      everOpened = true;
      pingTimer = vertx.setPeriodic(pingMs, pingMs, id -> {
        if (socket == ws) {
          ws.writePing(Buffer.buffer("qwenedit"));
        }
      });
      done.complete();
      events.onOpen(reconnect);
    });
    return done.future(); // not the field: a connect that is over at once has already cleared it
  }

  private void onClosed(WebSocket ws) {
    if (socket != ws) {
      return;
    }
    socket = null;
    if (pingTimer >= 0) {
      vertx.cancelTimer(pingTimer);
      pingTimer = -1;
    }
    if (closed) {
      return;
    }
    LOG.info("ComfyUI WebSocket {} closed ({}); will reconnect while a prompt is followed", connect.getURI(),
        ws.closeStatusCode() == null ? "no close frame" : ws.closeStatusCode() + " " + ws.closeReason());
    events.onClose();
    scheduleReconnect();
  }

  private void scheduleReconnect() {
    if (closed || retryTimer >= 0 || !events.wanted()) {
      return;
    }
    long delay = backoffMs / 2 + ThreadLocalRandom.current().nextLong(backoffMs / 2 + 1);
    backoffMs = Math.min(5_000, backoffMs * 2);
    retryTimer = vertx.setTimer(Math.max(1, delay), id -> {
      retryTimer = -1;
      if (socket == null && events.wanted()) {
        connect().onFailure(e -> LOG.debug("ComfyUI WebSocket reconnect failed: {}", e.toString()));
      }
    });
  }

  Future<Void> close() {
    closed = true;
    if (retryTimer >= 0) {
      vertx.cancelTimer(retryTimer);
    }
    if (pingTimer >= 0) {
      vertx.cancelTimer(pingTimer);
    }
    WebSocket ws = socket;
    socket = null;
    Future<Void> closing = ws == null ? Future.succeededFuture() : ws.close().recover(e -> Future.succeededFuture());
    return closing.eventually(client::close).timeout(5, TimeUnit.SECONDS).recover(e -> Future.succeededFuture());
  }
}
