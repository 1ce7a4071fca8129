package io.qwenedit.api;

import io.qwenedit.config.ApiConfig;
import io.qwenedit.queue.ImageInfo;
import io.qwenedit.queue.Job;
import io.qwenedit.queue.JobQueue;
import io.qwenedit.queue.JobRejectedException;
import io.qwenedit.queue.JobState;
import io.qwenedit.queue.NewJob;
import io.qwenedit.queue.QueueResults.Enqueued;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code /v1/jobs} calls: submit, status, result, cancel, events. A job is visible only to the API key that
 * submitted it (everyone's, when the API runs without keys on loopback); any other key gets 404, as if it did not
 * exist.
 */
final class JobRoutes {
  private static final Logger LOG = LoggerFactory.getLogger(JobRoutes.class);
  /** Job ids are short lower-case base32; anything else cannot be one. */
  private static final String ID_PATTERN = "[0-9a-z]{1,64}";
  /** Idempotency keys: 1 to 200 visible ASCII characters. */
  private static final String IDEMPOTENCY_PATTERN = "[\\x21-\\x7e]{1,200}";

  private final JobQueue queue;
  private final ApiConfig api;
  private final JobEventStream streams;
  private final ApiMetrics metrics;

  private record Reply(int status, JsonObject body) {}

  private record Result(Job job, Buffer bytes) {}

  JobRoutes(JobQueue queue, ApiConfig api, JobEventStream streams, ApiMetrics metrics) {
    this.queue = queue;
    this.api = api;
    this.streams = streams;
    this.metrics = metrics;
  }

  /** {@code POST /v1/jobs}: after {@link ApiAccess} and {@link JobRequestReader}. */
  void submit(RoutingContext ctx) {
    String client = ApiAccess.client(ctx);
    NewJob request = ctx.get(JobRequestReader.NEW_JOB);
    String idempotencyKey = ctx.request().getHeader("Idempotency-Key");
    if (idempotencyKey != null && !idempotencyKey.strip().matches(IDEMPOTENCY_PATTERN)) {
      ctx.fail(new ApiException(400, "bad_idempotency_key", "The Idempotency-Key header must be 1 to 200 visible ASCII"
          + " characters without spaces (a UUID is a good choice)."));
      return;
    }
    // Namespaced by client, so two API keys that happen to pick the same idempotency key get their own jobs.
    NewJob job = request.withSource(new JsonObject().put("kind", "api").put("client", client))
        .withIdempotencyKey(idempotencyKey == null ? null : "api:" + client + ":" + idempotencyKey.strip());
    try {
      JobQueue.validate(job, queue.config());
    } catch (JobRejectedException e) {
      ctx.fail(rejection(e));
      return;
    }
    // The queue checks its depth atomically too; asking first spares Redis a 20 MB write that would be refused. A
    // request with an idempotency key skips this: its job may already exist, and then it is answered even when full.
    Future<Void> room = job.idempotencyKey() != null ? Future.succeededFuture() : queue.depth().compose(depth ->
        depth < queue.config().maxDepth() ? Future.succeededFuture()
            : Future.failedFuture(new JobRejectedException("queue_full", "The service is busy: " + depth
                + " edits are waiting, the limit is " + queue.config().maxDepth() + ". Please try again in a few minutes.")));
    room.compose(v -> queue.enqueue(job))
        .onSuccess(enqueued -> accepted(ctx, enqueued))
        .onFailure(err -> ctx.fail(err instanceof JobRejectedException e ? rejection(e) : err));
  }

  private void accepted(RoutingContext ctx, Enqueued enqueued) {
    metrics.submitted(enqueued.duplicate());
    JsonObject body = new JsonObject()
        .put("id", enqueued.id())
        .put("state", enqueued.position() > 0 ? "queued" : null)
        .put("position", enqueued.position() > 0 ? enqueued.position() : null)
        .put("duplicate", enqueued.duplicate())
        .put("status_url", JobViews.self(enqueued.id()))
        .put("events_url", JobViews.self(enqueued.id()) + "/events")
        .put("result_url", JobViews.self(enqueued.id()) + "/result");
    if (enqueued.position() <= 0) {
      // A duplicate that already left the line: its state is whatever the record says now.
      queue.get(enqueued.id()).onComplete(ar -> {
        Job job = ar.succeeded() ? ar.result() : null;
        body.put("state", job == null ? null : job.state().wire());
        reply(ctx, 202, body);
      });
      return;
    }
    reply(ctx, 202, body);
  }

  private ApiException rejection(JobRejectedException e) {
    ApiException error = new ApiException(ApiErrors.statusOf(e.code()), e.code(), e.getMessage());
    if ("queue_full".equals(e.code())) {
      error.retryAfter(api.queueFullRetryAfter().toSeconds());
    }
    return error;
  }

  /** {@code GET /v1/jobs/{id}}. */
  void status(RoutingContext ctx) {
    owned(ctx).compose(job -> (job.state() == JobState.QUEUED ? queue.position(job.id()) : Future.<Integer>succeededFuture(null))
            .map(position -> JobViews.job(job, position)))
        .onSuccess(view -> reply(ctx, 200, view))
        .onFailure(ctx::fail);
  }

  /** {@code GET /v1/jobs/{id}/result}: the image bytes once the job succeeded. */
  void result(RoutingContext ctx) {
    owned(ctx).compose(job -> {
      if (!job.state().terminal()) {
        return Future.failedFuture(new ApiException(409, "job_not_finished", "Job " + job.id() + " is still "
            + job.state().wire() + "; its result is not ready. Follow " + JobViews.self(job.id()) + "/events or ask again later.")
            .retryAfter(2));
      }
      if (job.state() != JobState.SUCCEEDED || job.resultRef() == null) {
        String why = job.error() == null ? "" : ": " + job.error().message() + " [" + job.error().code() + "]";
        return Future.failedFuture(new ApiException(409, "job_has_no_result", "Job " + job.id() + " ended as "
            + job.state().wire() + why + ", so there is no result."));
      }
      return queue.image(job.resultRef()).compose(bytes -> bytes == null
          ? Future.failedFuture(new ApiException(410, "result_expired", "The result of job " + job.id()
              + " is no longer stored (results are kept for a limited time)."))
          : Future.succeededFuture(new Result(job, bytes)));
    }).onSuccess(result -> {
      Job job = result.job();
      Buffer bytes = result.bytes();
      ImageInfo info = ImageInfo.sniff(bytes);
      ctx.response()
          .putHeader(HttpHeaders.CONTENT_TYPE, info == null ? "application/octet-stream" : info.contentType())
          .putHeader("Content-Disposition", "inline; filename=\"" + job.id() + "." + (info == null ? "bin" : info.extension()) + "\"")
          .putHeader(HttpHeaders.CACHE_CONTROL, "private, max-age=3600")
          .end(bytes);
    }).onFailure(ctx::fail);
  }

  /** {@code DELETE /v1/jobs/{id}}: a waiting job is cancelled at once, a running one is told to stop. */
  void cancel(RoutingContext ctx) {
    owned(ctx).compose(job -> job.state().terminal() ? Future.failedFuture(alreadyFinished(job.id(), job.state().wire()))
        : queue.cancel(job.id()).compose(outcome -> {
      switch (outcome) {
        case "cancelled":
          LOG.info("job {} cancelled by {}", job.id(), ApiAccess.client(ctx));
          return Future.succeededFuture(new Reply(200, new JsonObject().put("id", job.id()).put("state", "cancelled")));
        case "requested":
          LOG.info("job {}: cancel requested by {} while it runs", job.id(), ApiAccess.client(ctx));
          return Future.succeededFuture(new Reply(202, new JsonObject().put("id", job.id()).put("state", "running")
              .put("cancel_requested", true).put("message", "The job is running; it will stop shortly. Its events stream ends"
                  + " with the outcome \"cancelled\" (or \"succeeded\" if it finished first).")));
        case "missing":
          return Future.failedFuture(notFound(job.id()));
        default:
          return Future.failedFuture(alreadyFinished(job.id(), outcome));
      }
    })).onSuccess(r -> reply(ctx, r.status(), r.body())).onFailure(ctx::fail);
  }

  /** {@code GET /v1/jobs/{id}/events}. */
  void events(RoutingContext ctx) {
    owned(ctx).onSuccess(job -> streams.stream(ctx, job.id())).onFailure(ctx::fail);
  }

  /** The job in the path, if it exists and belongs to the caller; else a 404 failure. */
  private Future<Job> owned(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    if (id == null || !id.matches(ID_PATTERN)) {
      return Future.failedFuture(notFound(id));
    }
    String client = ApiAccess.client(ctx);
    return queue.get(id).compose(job -> job != null && visibleTo(job, client) ? Future.succeededFuture(job)
        : Future.failedFuture(notFound(id)));
  }

  private boolean visibleTo(Job job, String client) {
    if (api.open()) {
      return true;
    }
    JsonObject source = job.source();
    return source != null && "api".equals(source.getString("kind")) && client.equals(source.getString("client"));
  }

  private static ApiException alreadyFinished(String id, String state) {
    return new ApiException(409, "job_already_finished", "Job " + id + " has already ended (" + state + "); there is nothing"
        + " to cancel.");
  }

  private static ApiException notFound(String id) {
    return new ApiException(404, "job_not_found", "There is no job " + (id == null ? "" : "'" + abbreviate(id) + "' ")
        + "for this API key. Jobs are kept for a limited time after they end.");
  }

  private static String abbreviate(String s) {
    return s.length() <= 40 ? s : s.substring(0, 37) + "...";
  }

  private static void reply(RoutingContext ctx, int status, JsonObject body) {
    if (status == 202 && body.getString("status_url") != null) {
      ctx.response().putHeader(HttpHeaders.LOCATION, body.getString("status_url"));
    }
    ctx.response().setStatusCode(status)
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json; charset=utf-8")
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
        .end(body.encode());
  }
}
