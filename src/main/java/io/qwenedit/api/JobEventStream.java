package io.qwenedit.api;

import io.qwenedit.queue.Job;
import io.qwenedit.queue.JobEvents;
import io.qwenedit.queue.JobFollower;
import io.qwenedit.queue.JobQueue;
import io.qwenedit.queue.JobState;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;

/**
 * {@code GET /v1/jobs/{id}/events}: a job's life as Server-Sent Events. {@code position} while it waits (again whenever
 * a job ahead leaves the line), {@code progress} while it runs, then one {@code outcome} with the whole job, and the
 * stream ends. Built on {@link JobFollower} over the process's shared {@link JobEvents} subscription: events only say
 * "look again", the job record is the truth, and after a lost subscription everything is re-read.
 */
final class JobEventStream {
  /** Events after which a waiting job's place in line may have changed. */
  private static final Set<String> LINE_CHANGES = Set.of("running", "cancelled", "dead", "requeued", "released");
  private static final long POSITION_DEBOUNCE_MS = 200;

  private final Vertx vertx;
  private final JobQueue queue;
  private final JobFollower follower;
  private final JobEvents events;
  private final Duration maxDuration;
  private final Duration keepAlive;
  private final ApiMetrics metrics;

  JobEventStream(Vertx vertx, JobQueue queue, JobEvents events, Duration maxDuration, Duration keepAlive, ApiMetrics metrics) {
    this.vertx = vertx;
    this.queue = queue;
    this.events = events;
    this.follower = new JobFollower(vertx, queue, events);
    this.maxDuration = maxDuration;
    this.keepAlive = keepAlive;
    this.metrics = metrics;
  }

  void stream(RoutingContext ctx, String id) {
    new Stream(ctx.response(), id).start();
  }

  /** One client's stream. Everything runs on the API verticle's event loop. */
  private final class Stream {
    private final HttpServerResponse response;
    private final String id;
    private final Promise<Void> clientGone = Promise.promise();
    private JobState lastState;
    private Integer lastPosition;
    private boolean positionSent;
    private boolean positionCheckPending;
    private long keepAliveTimer = -1;
    private JobEvents.Registration lineWatch;

    Stream(HttpServerResponse response, String id) {
      this.response = response;
      this.id = id;
    }

    void start() {
      if (response.closed()) {
        // The client left while its job was looked up: a close handler set now would never run, and the stream
        // (its follow, its line watch, its keep-alive timer) would outlive it until the job ended.
        return;
      }
      response.setChunked(true)
          .putHeader(HttpHeaders.CONTENT_TYPE, "text/event-stream; charset=utf-8")
          .putHeader(HttpHeaders.CACHE_CONTROL, "no-cache")
          .putHeader("X-Accel-Buffering", "no"); // nginx: pass events through at once
      response.closeHandler(v -> clientGone.tryComplete());
      // EventSource reconnects after this long if the connection drops before the outcome.
      response.write("retry: 3000\n\n");
      metrics.streamOpened();
      keepAliveTimer = vertx.setPeriodic(keepAlive.toMillis(), t -> {
        if (!response.closed()) {
          response.write(": keep-alive\n\n");
        }
      });
      lineWatch = events.onAny(this::lineMayHaveChanged, this::checkPosition);
      follower.follow(id, maxDuration, this::update, clientGone.future())
          .onSuccess(job -> {
            if (job == null) {
              send("error", ApiErrors.body("job_gone", "Job " + id + " no longer exists (it expired after its retention time)."));
            } else {
              send("outcome", JobViews.job(job, null));
            }
          })
          .onFailure(err -> {
            if (err instanceof JobFollower.FollowTimeoutException) {
              send("timeout", new JsonObject().put("id", id).put("message", "This stream ends after " + maxDuration.toSeconds()
                  + " s; the job is still " + (lastState == null ? "unknown" : lastState.wire()) + ". Connect again to go on following it."));
            }
          })
          .onComplete(ar -> finish());
    }

    private void update(Job job) {
      lastState = job.state();
      if (job.state() == JobState.QUEUED) {
        if (job.dueAt() != null) {
          // Waiting out a retry back-off: not in line, so no position, but when it comes back.
          sendPosition(job, null);
        } else {
          checkPosition();
        }
      } else if (job.state() == JobState.RUNNING) {
        send("progress", JobViews.progress(job));
      }
      // Terminal states are sent once, as the outcome, when the follow resolves.
    }

    private void lineMayHaveChanged(JsonObject event) {
      if (lastState == JobState.QUEUED && LINE_CHANGES.contains(event.getString("type")) && !positionCheckPending) {
        positionCheckPending = true;
        // Many jobs can leave the line at once; one look per burst is enough.
        vertx.setTimer(POSITION_DEBOUNCE_MS, t -> {
          positionCheckPending = false;
          checkPosition();
        });
      }
    }

    private void checkPosition() {
      if (lastState != JobState.QUEUED) {
        return;
      }
      queue.position(id).onSuccess(position -> {
        // Null: it left the line meanwhile; the follower will report what it became.
        if (position != null && lastState == JobState.QUEUED && (!positionSent || !Objects.equals(position, lastPosition))) {
          send("position", new JsonObject().put("id", id).put("state", "queued").put("position", position));
          lastPosition = position;
          positionSent = true;
        }
      });
    }

    private void sendPosition(Job job, Integer position) {
      send("position", JobViews.position(job, position));
      lastPosition = position;
      positionSent = true;
    }

    private void send(String event, JsonObject data) {
      if (!response.closed() && !response.ended()) {
        response.write("event: " + event + "\ndata: " + data.encode() + "\n\n");
      }
    }

    private void finish() {
      vertx.cancelTimer(keepAliveTimer);
      if (lineWatch != null) {
        lineWatch.close();
      }
      metrics.streamClosed();
      if (!response.closed() && !response.ended()) {
        response.end();
      }
    }
  }
}
