package io.qwenedit.api;

import static io.qwenedit.testing.Await.await;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/** A Server-Sent Events client for tests: collects events as they arrive and knows when the stream ended. */
final class SseClient implements AutoCloseable {
  record Event(String name, JsonObject data) {}

  private final HttpClient client;
  private final List<Event> events = new ArrayList<>();
  private final StringBuilder raw = new StringBuilder();
  private final StringBuilder pending = new StringBuilder();
  private final Promise<Void> ended = Promise.promise();
  private HttpClientResponse response;

  private SseClient(Vertx vertx) {
    this.client = vertx.createHttpClient();
  }

  static SseClient open(Vertx vertx, int port, String path, String key) {
    SseClient c = new SseClient(vertx);
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1").setPort(port).setURI(path)
        .addHeader("Accept", "text/event-stream");
    if (key != null) {
      options.addHeader("Authorization", "Bearer " + key);
    }
    c.response = await(c.client.request(options).compose(req -> req.send()).map(resp -> {
      resp.handler(buf -> c.received(buf.toString()));
      resp.endHandler(v -> c.ended.tryComplete());
      resp.exceptionHandler(err -> c.ended.tryComplete());
      return resp;
    }));
    return c;
  }

  int status() {
    return response.statusCode();
  }

  String contentType() {
    return response.getHeader("Content-Type");
  }

  private synchronized void received(String text) {
    raw.append(text);
    pending.append(text);
    int end;
    while ((end = pending.indexOf("\n\n")) >= 0) {
      String block = pending.substring(0, end);
      pending.delete(0, end + 2);
      String name = null;
      StringBuilder data = new StringBuilder();
      for (String line : block.split("\n")) {
        if (line.startsWith("event: ")) {
          name = line.substring(7);
        } else if (line.startsWith("data: ")) {
          data.append(line.substring(6));
        }
      }
      if (name != null) {
        events.add(new Event(name, new JsonObject(data.toString())));
      }
    }
    notifyAll();
  }

  synchronized List<Event> events() {
    return List.copyOf(events);
  }

  synchronized String raw() {
    return raw.toString();
  }

  /** Waits for an event of this name whose data matches, and returns it. */
  synchronized Event waitFor(String name, Predicate<JsonObject> match, Duration limit) {
    long deadline = System.nanoTime() + limit.toNanos();
    while (true) {
      for (Event e : events) {
        if (e.name().equals(name) && match.test(e.data())) {
          return e;
        }
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new AssertionError("no '" + name + "' event as expected within " + limit + "; got " + events);
      }
      try {
        wait(Math.max(1, left / 1_000_000));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  Future<Void> ended() {
    return ended.future();
  }

  @Override
  public void close() {
    await(client.close());
  }
}
