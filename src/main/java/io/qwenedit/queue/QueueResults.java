package io.qwenedit.queue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/** The small value types {@link JobQueue} returns. */
public final class QueueResults {
  private QueueResults() {}

  /** @param position 1 = next in line; -1 when not waiting in line (e.g. a duplicate that already runs) */
  public record Enqueued(String id, int position, boolean duplicate) {
    public JsonObject toJson() {
      return new JsonObject().put("id", id).put("position", position).put("duplicate", duplicate);
    }
  }

  /** A job this caller now holds, with the fence its writes must carry. */
  public record Claimed(Job job, long fence) {
    public String id() {
      return job.id();
    }
  }

  /**
   * @param nextDueMs milliseconds until the next retry-delayed job is due, or -1 when none
   * @param more      the claim took as many jobs as asked and more are waiting: claim again without waiting
   */
  public record Claim(List<Claimed> jobs, long nextDueMs, boolean more) {}

  /** @param held false when the caller's lease was taken over (or the job ended): it must stop working on it */
  public record Lease(boolean held, boolean cancelRequested, String state) {}

  /** Result of a fenced write: accepted, or refused because the caller no longer holds the job. */
  public record Outcome(boolean accepted, String state) {}

  /** A completion's outcome, and the next job it claimed for the caller (null: none asked for, or none in line). */
  public record Completed(Outcome outcome, Claimed next) {}

  public record Reaped(List<String> requeued, List<String> dead, int promoted) {}

  public record Running(String id, String holder, String gpu, Long startedAt, Long leaseUntil, JsonObject progress) {
    public JsonObject toJson(long now) {
      return new JsonObject().put("id", id).put("holder", holder).put("gpu", gpu)
          .put("age_s", startedAt == null ? null : Math.max(0, (now - startedAt) / 1000.0))
          .put("lease_left_s", leaseUntil == null ? null : (leaseUntil - now) / 1000.0)
          .put("progress", progress);
    }
  }

  /**
   * A deployment-wide snapshot for {@code status} and metrics.
   *
   * @param services live bot and API instances ({@link Registry#services})
   */
  public record Snapshot(long queued, long delayed, List<Running> running, long dead, JsonObject counters,
                         JsonArray workers, JsonArray services, long at) {}
}
