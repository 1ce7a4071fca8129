package io.qwenedit.emulator;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.URI;

/**
 * A ComfyUI-compatible server without GPU or model, for tests, benchmarks and the demo: started in-process with
 * {@link #start}, or as its own process with {@code java -jar qwenedit.jar emulator}. See docs/comfyui.md.
 */
public final class ComfyEmulator {
  private final Vertx vertx;
  private final ComfyEmulatorVerticle verticle;
  private final String deploymentId;
  private final String host;

  private ComfyEmulator(Vertx vertx, ComfyEmulatorVerticle verticle, String deploymentId, String host) {
    this.vertx = vertx;
    this.verticle = verticle;
    this.deploymentId = deploymentId;
    this.host = host;
  }

  /** Deploys the emulator on {@code vertx}; resolves once it listens. A bad fault script fails it with a readable message. */
  public static Future<ComfyEmulator> start(Vertx vertx, EmulatorOptions options) {
    ComfyEmulatorVerticle verticle;
    try {
      verticle = new ComfyEmulatorVerticle(options);
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(new IllegalArgumentException("Bad fault script: " + e.getMessage()));
    }
    String host = "0.0.0.0".equals(options.host()) || "::".equals(options.host()) ? "127.0.0.1" : options.host();
    return vertx.deployVerticle(verticle).map(id -> new ComfyEmulator(vertx, verticle, id, host));
  }

  public int port() {
    return verticle.port();
  }

  /** {@code http://host:port} (the base URL a ComfyClient takes). */
  public URI baseUri() {
    return URI.create("http://" + host + ":" + port());
  }

  public String url() {
    return baseUri().toString();
  }

  /** What {@code GET /_emulator/stats} answers. */
  public Future<JsonObject> stats() {
    return verticle.onContext(verticle::statsJson);
  }

  /** Replaces the fault script ({@code POST /_emulator/faults}). */
  public Future<Void> setFaults(JsonObject script) {
    return verticle.onContext(() -> {
      verticle.setFaults(script);
      return null;
    });
  }

  public Future<Void> clearFaults() {
    return setFaults(new JsonObject());
  }

  public Future<Void> resetStats() {
    return verticle.onContext(() -> {
      verticle.resetStats();
      return null;
    });
  }

  /** As if ComfyUI restarted: queue, history and cache are lost, sockets closed, a wedged worker thread lives again. */
  public Future<Void> restart() {
    return verticle.onContext(() -> {
      verticle.restart();
      return null;
    });
  }

  public Future<Void> close() {
    return vertx.undeploy(deploymentId);
  }
}
