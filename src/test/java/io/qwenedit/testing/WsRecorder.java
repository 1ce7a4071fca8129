package io.qwenedit.testing;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/** A raw WebSocket to a ComfyUI (emulator) that records every frame, for protocol tests. */
public final class WsRecorder implements AutoCloseable {
  public final List<JsonObject> messages = new CopyOnWriteArrayList<>();
  public final List<Buffer> binary = new CopyOnWriteArrayList<>();
  /** When each text message arrived (ms), index for index with {@link #messages}. */
  public final List<Long> arrivals = new CopyOnWriteArrayList<>();
  private final WebSocketClient client;
  private WebSocket socket;
  private volatile boolean closed;

  private WsRecorder(WebSocketClient client) {
    this.client = client;
  }

  /** Connects to {@code path} (e.g. {@code /ws?clientId=a}); {@code firstFrame} is sent right away when not null. */
  public static WsRecorder open(Vertx vertx, int port, String path, String firstFrame) {
    WebSocketClient client = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxMessageSize(64 << 20).setMaxFrameSize(64 << 20));
    WsRecorder r = new WsRecorder(client);
    var ws = client.webSocket();
    ws.textMessageHandler(t -> {
      synchronized (r) {
        r.arrivals.add(System.currentTimeMillis());
        r.messages.add(new JsonObject(t));
      }
    });
    ws.binaryMessageHandler(r.binary::add);
    ws.closeHandler(v -> r.closed = true);
    r.socket = Await.await(ws.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI(path)));
    if (firstFrame != null) {
      Await.await(r.socket.writeTextMessage(firstFrame));
    }
    return r;
  }

  public boolean isClosed() {
    return closed;
  }

  public List<String> types() {
    List<String> out = new ArrayList<>();
    messages.forEach(m -> out.add(m.getString("type")));
    return out;
  }

  /** Types of messages about one prompt (and prompt-less ones when {@code withStatus}). */
  public List<String> typesFor(String promptId) {
    List<String> out = new ArrayList<>();
    for (JsonObject m : messages) {
      JsonObject d = m.getJsonObject("data");
      if (d != null && promptId.equals(d.getString("prompt_id")) && !"progress_state".equals(m.getString("type"))) {
        String t = m.getString("type");
        if ("executing".equals(t) && d.getValue("node") == null) {
          t = "executing:null";
        }
        out.add(t);
      }
    }
    return out;
  }

  public JsonObject await(String what, Duration limit, Predicate<JsonObject> p) {
    long deadline = System.nanoTime() + limit.toNanos();
    while (System.nanoTime() < deadline) {
      for (JsonObject m : messages) {
        if (p.test(m)) {
          return m;
        }
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
    throw new AssertionError("no WebSocket message " + what + " within " + limit + "; got " + types());
  }

  /** Waits for {@code executing} with node null for this prompt (the end of a run). */
  public void awaitEnd(String promptId, Duration limit) {
    await("executing null for " + promptId, limit, m -> "executing".equals(m.getString("type"))
        && m.getJsonObject("data").getValue("node") == null && promptId.equals(m.getJsonObject("data").getString("prompt_id")));
  }

  @Override
  public void close() {
    try {
      Await.await(socket.close().recover(e -> io.vertx.core.Future.succeededFuture()), Duration.ofSeconds(5));
    } catch (AssertionError ignored) {
      // closing anyway
    }
    client.close();
  }
}
