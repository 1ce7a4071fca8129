package io.qwenedit.api;

import io.qwenedit.queue.Job;
import io.qwenedit.queue.JobState;
import io.vertx.core.json.JsonObject;

/** The JSON the API shows for a job. Field names are stable: fields are added, never renamed (docs/api.md). */
final class JobViews {
  private JobViews() {}

  static String self(String id) {
    return "/v1/jobs/" + id;
  }

  static JsonObject links(String id) {
    return new JsonObject().put("self", self(id)).put("events", self(id) + "/events").put("result", self(id) + "/result");
  }

  /** @param position 1 = next in line; null when not waiting in line */
  static JsonObject job(Job job, Integer position) {
    JsonObject view = new JsonObject()
        .put("id", job.id())
        .put("state", job.state().wire())
        .put("position", position)
        .put("prompt", job.prompt())
        .put("workflow", job.workflow())
        .put("params", job.params())
        .put("attempts", job.attempts())
        .put("progress", job.progress())
        .put("error", job.error() == null ? null : job.error().toJson())
        .put("cancel_requested", job.cancelRequested())
        .put("created_at", job.createdAt())
        .put("queued_at", job.queuedAt())
        .put("started_at", job.startedAt())
        .put("finished_at", job.finishedAt())
        .put("retry_at", job.dueAt())
        .put("input", job.inputInfo());
    if (job.state() == JobState.SUCCEEDED && job.resultRef() != null) {
      JsonObject result = new JsonObject().put("url", self(job.id()) + "/result");
      if (job.resultInfo() != null) {
        result.mergeIn(job.resultInfo());
      }
      view.put("result", result);
    } else {
      view.put("result", (Object) null);
    }
    return view.put("links", links(job.id()));
  }

  /** What a client needs while the job waits: its place in line. */
  static JsonObject position(Job job, Integer position) {
    return new JsonObject().put("id", job.id()).put("state", job.state().wire()).put("position", position)
        .put("retry_at", job.dueAt());
  }

  /** What a client needs while the job runs. */
  static JsonObject progress(Job job) {
    return new JsonObject().put("id", job.id()).put("state", job.state().wire()).put("attempts", job.attempts())
        .put("progress", job.progress()).put("started_at", job.startedAt()).put("cancel_requested", job.cancelRequested());
  }

}
