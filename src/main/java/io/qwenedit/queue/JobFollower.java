package io.qwenedit.queue;

import io.qwenedit.redis.RedisSubscriber;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Follows one job to its end: listens on the events channel and re-reads the job record on every event about it,
 * after subscribing (so nothing slips between the first read and the subscription) and after every reconnect
 * (pub/sub keeps nothing while away). The record is the truth; events only say "look again".
 */
public final class JobFollower {
  /** The wait ran out; carries the job as last seen (null if it never existed). */
  public static final class FollowTimeoutException extends RuntimeException {
    private final Job lastSeen;

    FollowTimeoutException(String message, Job lastSeen) {
      super(message, null, false, false);
      this.lastSeen = lastSeen;
    }

    public Job lastSeen() {
      return lastSeen;
    }
  }

  /** The follow was stopped by its owner (e.g. the HTTP client went away) before the job ended. */
  public static final class FollowStoppedException extends RuntimeException {
    FollowStoppedException() {
      super("stopped by its owner", null, false, false);
    }
  }

  private final Vertx vertx;
  private final JobQueue queue;
  private final JobEvents shared;

  /** Each follow opens its own subscription (a one-off follower such as {@code submit --wait}). */
  public JobFollower(Vertx vertx, JobQueue queue) {
    this(vertx, queue, null);
  }

  /** Follows share one subscription (many followers in one process, such as the API's event streams). */
  public JobFollower(Vertx vertx, JobQueue queue, JobEvents shared) {
    this.vertx = vertx;
    this.queue = queue;
    this.shared = shared;
  }

  /**
   * Resolves with the job once it is in a terminal state (or null if it does not exist); {@code onUpdate} sees every
   * newer version of the record. Fails with {@link FollowTimeoutException} after {@code limit}.
   */
  public Future<Job> follow(String id, Duration limit, Consumer<Job> onUpdate) {
    return follow(id, limit, onUpdate, null);
  }

  /** Same, and fails with {@link FollowStoppedException} as soon as {@code stop} completes (null: never). */
  public Future<Job> follow(String id, Duration limit, Consumer<Job> onUpdate, Future<?> stop) {
    Promise<Job> done = Promise.promise();
    Job[] last = new Job[1];
    Runnable refresh = () -> queue.get(id).onSuccess(job -> {
      if (done.future().isComplete()) {
        return;
      }
      if (job == null) {
        done.tryComplete(null);
        return;
      }
      Job prev = last[0];
      if (prev == null || newer(job, prev)) {
        last[0] = job;
        onUpdate.accept(job);
      }
      if (job.state().terminal()) {
        done.tryComplete(job);
      }
    });
    long timer = vertx.setTimer(limit.toMillis(), t -> done.tryFail(new FollowTimeoutException(
        "no end within " + limit.toSeconds() + " s", last[0])));
    if (stop != null) {
      stop.onComplete(ar -> done.tryFail(new FollowStoppedException()));
    }
    Supplier<Future<Void>> unsubscribe;
    if (shared != null) {
      JobEvents.Registration reg = shared.onJob(id, refresh);
      unsubscribe = () -> {
        reg.close();
        return Future.succeededFuture();
      };
      refresh.run();
    } else {
      RedisSubscriber sub = new RedisSubscriber(vertx, queue.redis().config(), List.of(queue.keys().eventsChannel()),
          (channel, message) -> {
            if (message.contains(id) && id.equals(idOf(message))) {
              refresh.run();
            }
          });
      sub.onReconnect(refresh);
      unsubscribe = sub::close;
      sub.start().onSuccess(v -> refresh.run()).onFailure(done::tryFail);
    }
    // The outcome is known: hand it over now; the subscription closes behind it (its closing is not the caller's wait).
    done.future().onComplete(ar -> {
      vertx.cancelTimer(timer);
      unsubscribe.get();
    });
    return done.future();
  }

  /** Replies can arrive out of order (pooled connections): never let an older version replace a newer one. */
  private static boolean newer(Job a, Job b) {
    long ua = a.updatedAt() == null ? 0 : a.updatedAt();
    long ub = b.updatedAt() == null ? 0 : b.updatedAt();
    if (ua != ub) {
      return ua > ub;
    }
    return a.state() != b.state() || !java.util.Objects.equals(a.progress(), b.progress());
  }

  private static String idOf(String message) {
    try {
      return new JsonObject(message).getString("id");
    } catch (RuntimeException e) {
      return null;
    }
  }
}
