package io.qwenedit.emulator;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The emulator's WebSocket sessions, routed by session id ({@code clientId}) as ComfyUI's server.py does: a send to a
 * sid reaches only that socket (and is silently lost if it is not connected), a send to no sid reaches every socket,
 * a new socket with a sid takes that sid over without closing the old one, and a socket that closes removes its sid
 * whichever socket holds it now (ComfyUI's cleanup bug, issue 16010).
 */
final class EmulatorSockets {
  /** One connected socket. */
  private static final class Session {
    final String sid;
    final ServerWebSocket ws;
    boolean firstFrameSeen;
    boolean previewMetadata;

    Session(String sid, ServerWebSocket ws) {
      this.sid = sid;
      this.ws = ws;
    }
  }

  private final Map<String, Session> bySid = new HashMap<>();
  private final List<Session> all = new ArrayList<>();
  private final Map<String, Long> refuseUntil = new HashMap<>();
  private final EmulatorStats stats;
  private final JsonObject features;
  private final LongSupplier clock;

  EmulatorSockets(EmulatorStats stats, JsonObject features, LongSupplier clock) {
    this.stats = stats;
    this.features = features;
    this.clock = clock;
  }

  /** True while a dropped client's reconnects are being refused (fault drop_socket with refuse_reconnect_ms). */
  boolean refused(String sid) {
    Long until = refuseUntil.get(sid);
    if (until == null) {
      return false;
    }
    if (clock.getAsLong() >= until) {
      refuseUntil.remove(sid);
      return false;
    }
    return true;
  }

  /**
   * Registers a new socket and sends the connect {@code status} (with the sid), then the reconnect hint when this sid
   * owns the running prompt and a node is executing.
   */
  void open(ServerWebSocket ws, String sid, int queueRemaining, String runningClient, String executingNode) {
    Session s = new Session(sid, ws);
    bySid.put(sid, s);
    all.add(s);
    stats.websocketsOpened++;
    stats.websocketsOpen++;
    ws.textMessageHandler(text -> onText(s, text));
    ws.binaryMessageHandler(b -> s.firstFrameSeen = true);
    ws.exceptionHandler(e -> { });
    ws.closeHandler(v -> {
      all.remove(s);
      bySid.remove(sid);
      stats.websocketsOpen--;
    });
    write(s, "status", new JsonObject().put("status", status(queueRemaining)).put("sid", sid));
    if (executingNode != null && sid.equals(runningClient)) {
      write(s, "executing", new JsonObject().put("node", executingNode));
    }
  }

  static JsonObject status(int queueRemaining) {
    return new JsonObject().put("exec_info", new JsonObject().put("queue_remaining", queueRemaining));
  }

  private void onText(Session s, String text) {
    if (s.firstFrameSeen) {
      return;
    }
    s.firstFrameSeen = true;
    try {
      JsonObject msg = new JsonObject(text);
      if ("feature_flags".equals(msg.getString("type"))) {
        JsonObject data = msg.getJsonObject("data", new JsonObject());
        s.previewMetadata = Boolean.TRUE.equals(data.getValue("supports_preview_metadata"));
        write(s, "feature_flags", features.copy());
      }
    } catch (RuntimeException ignored) {
      // ComfyUI ignores anything else a client sends
    }
  }

  /** A text event to one sid, or to everyone when {@code sid} is null. */
  void send(String sid, String type, JsonObject data) {
    if (sid == null) {
      new ArrayList<>(all).forEach(s -> write(s, type, data));
      return;
    }
    Session s = bySid.get(sid);
    if (s != null) {
      write(s, type, data);
    }
  }

  void broadcastStatus(int queueRemaining) {
    send(null, "status", new JsonObject().put("status", status(queueRemaining)));
  }

  /** A preview frame: type 4 (with metadata) to sockets that negotiated it, type 1 (JPEG) to the others. */
  void preview(String sid, Buffer jpeg, JsonObject metadata) {
    List<Session> targets = new ArrayList<>();
    if (sid == null) {
      targets.addAll(all);
    } else if (bySid.get(sid) != null) {
      targets.add(bySid.get(sid));
    }
    for (Session s : targets) {
      Buffer frame;
      if (s.previewMetadata) {
        byte[] meta = metadata.encode().getBytes(StandardCharsets.UTF_8);
        frame = Buffer.buffer().appendInt(4).appendInt(meta.length).appendBytes(meta).appendBuffer(jpeg);
      } else {
        frame = Buffer.buffer().appendInt(1).appendInt(1).appendBuffer(jpeg);
      }
      s.ws.writeBinaryMessage(frame);
    }
  }

  /** Closes the sockets of a sid mid-run (fault drop_socket); reconnects are refused for {@code refuseMs}. */
  void drop(String sid, long refuseMs) {
    if (sid == null) {
      return;
    }
    if (refuseMs > 0) {
      refuseUntil.put(sid, clock.getAsLong() + refuseMs);
    }
    for (Session s : new ArrayList<>(all)) {
      if (s.sid.equals(sid)) {
        stats.websocketsDropped++;
        s.ws.close((short) 1011, "dropped by emulator fault");
      }
    }
  }

  void closeAll() {
    new ArrayList<>(all).forEach(s -> s.ws.close());
  }

  private static void write(Session s, String type, JsonObject data) {
    if (!s.ws.isClosed()) {
      s.ws.writeTextMessage(new JsonObject().put("type", type).put("data", data).encode());
    }
  }
}
