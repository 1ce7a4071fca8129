package io.qwenedit.queue;

import io.qwenedit.config.RedisConfig;
import io.qwenedit.redis.RedisSubscriber;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One subscription to the job events channel shared by everything a process follows (every SSE stream of the API,
 * say), instead of one Redis connection per follower. Listeners are told about events for their job, or every event,
 * and about every resubscription after a lost connection (when they must re-read the records: pub/sub kept nothing
 * while it was away). Events are hints; the job record stays the truth.
 */
public final class JobEvents {
  private static final Logger LOG = LoggerFactory.getLogger(JobEvents.class);

  /** Stops a listener. */
  public interface Registration {
    void close();
  }

  private final RedisSubscriber subscriber;
  private final Map<String, Set<Runnable>> byJob = new ConcurrentHashMap<>();
  private final Set<Consumer<JsonObject>> all = new CopyOnWriteArraySet<>();
  private final Set<Runnable> reconnectListeners = new CopyOnWriteArraySet<>();

  public JobEvents(Vertx vertx, RedisConfig redis, Keys keys) {
    this.subscriber = new RedisSubscriber(vertx, redis, List.of(keys.eventsChannel()), (channel, message) -> dispatch(message));
    this.subscriber.onReconnect(this::reconnected);
  }

  /** Subscribes in the background and keeps the subscription alive for ever (until {@link #close}). */
  public void start() {
    subscriber.startInBackground();
  }

  /** True while the subscription is established (a readiness check reports it). */
  public boolean subscribed() {
    return subscriber.subscribed();
  }

  /** {@code changed} runs on every event about job {@code id} and after every resubscription. */
  public Registration onJob(String id, Runnable changed) {
    byJob.computeIfAbsent(id, k -> new CopyOnWriteArraySet<>()).add(changed);
    reconnectListeners.add(changed);
    return () -> {
      reconnectListeners.remove(changed);
      byJob.computeIfPresent(id, (k, set) -> {
        set.remove(changed);
        return set.isEmpty() ? null : set;
      });
    };
  }

  /** {@code onEvent} sees every event (parsed); {@code onReconnect} runs after every resubscription. */
  public Registration onAny(Consumer<JsonObject> onEvent, Runnable onReconnect) {
    all.add(onEvent);
    reconnectListeners.add(onReconnect);
    return () -> {
      all.remove(onEvent);
      reconnectListeners.remove(onReconnect);
    };
  }

  private void dispatch(String message) {
    JsonObject event;
    try {
      event = new JsonObject(message);
    } catch (RuntimeException e) {
      LOG.debug("ignoring an unreadable job event: {}", message);
      return;
    }
    String id = event.getString("id");
    Set<Runnable> listeners = id == null ? null : byJob.get(id);
    if (listeners != null) {
      listeners.forEach(JobEvents::safely);
    }
    all.forEach(l -> safely(() -> l.accept(event)));
  }

  private void reconnected() {
    reconnectListeners.forEach(JobEvents::safely);
  }

  private static void safely(Runnable r) {
    try {
      r.run();
    } catch (RuntimeException e) {
      LOG.error("a job event listener failed", e);
    }
  }

  public Future<Void> close() {
    byJob.clear();
    all.clear();
    reconnectListeners.clear();
    return subscriber.close();
  }
}
