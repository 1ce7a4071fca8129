package io.qwenedit.demo;

import io.qwenedit.demo.DemoSamples.Sample;
import io.qwenedit.queue.Job;
import io.qwenedit.queue.JobEvents;
import io.qwenedit.queue.JobFollower;
import io.qwenedit.queue.JobQueue;
import io.qwenedit.queue.JobState;
import io.qwenedit.queue.NewJob;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Queues the sample edits and shows them moving, one line per change: place in line, the GPU each runs on, its
 * progress, and where its result was written (next to a copy of the original, for comparison).
 */
public final class DemoRun {
  /** How one sample ended: the job as it ended (null if it vanished), the result file, or why it did not succeed. */
  public record Outcome(Sample sample, String jobId, Job end, Path resultFile, String problem) {
    public boolean succeeded() {
      return problem == null;
    }
  }

  private final Vertx vertx;
  private final JobQueue queue;
  private final JobEvents events;
  private final Path results;
  private final PrintStream out;
  private final int nameWidth;
  private final Map<String, String> lastLine = new ConcurrentHashMap<>();

  public DemoRun(Vertx vertx, JobQueue queue, JobEvents events, Path results, PrintStream out, List<Sample> samples) {
    this.vertx = vertx;
    this.queue = queue;
    this.events = events;
    this.results = results;
    this.out = out;
    this.nameWidth = samples.stream().mapToInt(s -> s.name().length()).max().orElse(8) + 2;
  }

  /** Queues every sample (in order) and follows them all; never fails (a sample's failure is its outcome). */
  public Future<List<Outcome>> run(List<Sample> samples, Duration perJob) {
    Future<List<String>> queued = Future.succeededFuture(new ArrayList<>());
    for (Sample s : samples) {
      queued = queued.compose(ids -> queue.enqueue(new NewJob(s.prompt(), s.image(), null, null,
              new JsonObject().put("kind", "demo").put("sample", s.name()), null))
          .map(q -> {
            say(s, "\"" + s.prompt() + "\": queued as job " + q.id() + ", number " + q.position() + " in line");
            ids.add(q.id());
            return ids;
          }));
    }
    return queued.compose(ids -> {
      List<Future<Outcome>> all = new ArrayList<>();
      for (int i = 0; i < samples.size(); i++) {
        all.add(follow(samples.get(i), ids.get(i), perJob));
      }
      return Future.join(all).map(cf -> all.stream().map(Future::result).toList());
    });
  }

  private Future<Outcome> follow(Sample s, String id, Duration limit) {
    long t0 = System.nanoTime();
    return new JobFollower(vertx, queue, events).follow(id, limit, job -> show(s, job))
        .compose(end -> finish(s, id, end, (System.nanoTime() - t0) / 1e9))
        .recover(err -> {
          String why = err instanceof JobFollower.FollowTimeoutException ? "still not done after " + limit.toSeconds() + " s"
              : String.valueOf(err.getMessage());
          say(s, "FAILED: " + why);
          return Future.succeededFuture(new Outcome(s, id, null, null, why));
        });
  }

  private void show(Sample s, Job job) {
    String line;
    if (job.state() == JobState.RUNNING) {
      if (job.gpu() == null) {
        return; // claimed; which GPU is known a moment later
      }
      JsonObject p = job.progress();
      String where = "running on " + job.gpu() + (job.attempts() > 1 ? " (attempt " + job.attempts() + ")" : "");
      if (p != null && p.getInteger("max", 0) > 0) {
        int value = p.getInteger("value", 0);
        int max = p.getInteger("max");
        // a line per quarter of the steps: moving, without flooding the screen
        int quarter = value * 4 / max;
        line = where + ", step " + Math.max(1, quarter * max / 4) + "/" + max;
        if (quarter == 0 || quarter == 4) {
          return;
        }
      } else {
        line = where;
      }
    } else if (job.state() == JobState.QUEUED && job.dueAt() != null) {
      line = "waiting to try again after: " + (job.error() == null ? "an error" : job.error().message());
    } else {
      return; // queued is said at enqueue; the end is said by finish()
    }
    if (!line.equals(lastLine.put(s.name(), line))) {
      say(s, line);
    }
  }

  private Future<Outcome> finish(Sample s, String id, Job end, double seconds) {
    if (end == null) {
      say(s, "FAILED: job " + id + " disappeared");
      return Future.succeededFuture(new Outcome(s, id, null, null, "job " + id + " disappeared"));
    }
    if (end.state() != JobState.SUCCEEDED) {
      String why = end.state().wire() + (end.error() == null ? "" : ": " + end.error().message() + " [" + end.error().code() + "]");
      say(s, "FAILED: " + why);
      return Future.succeededFuture(new Outcome(s, id, end, null, why));
    }
    return queue.image(end.resultRef()).compose(bytes -> vertx.executeBlocking(() -> write(s, end, bytes)))
        .map(file -> {
          say(s, String.format(Locale.ROOT, "done in %.1f s -> %s", seconds, file));
          return new Outcome(s, id, end, file, null);
        })
        .recover(err -> {
          say(s, "FAILED: the result could not be saved: " + err.getMessage());
          return Future.succeededFuture(new Outcome(s, id, end, null, "result not saved: " + err.getMessage()));
        });
  }

  private Path write(Sample s, Job end, Buffer bytes) throws IOException {
    if (bytes == null) {
      throw new IOException("the result image has expired");
    }
    Files.createDirectories(results);
    String ext = end.resultInfo() == null ? "png" : end.resultInfo().getString("format", "png");
    Path file = results.resolve(s.name() + "-edited." + ext);
    Files.write(file, bytes.getBytes());
    Files.write(results.resolve(s.name() + "-original" + s.file().substring(s.file().lastIndexOf('.'))), s.image().getBytes());
    return file;
  }

  private void say(Sample s, String what) {
    synchronized (out) {
      out.printf(Locale.ROOT, "  %-" + nameWidth + "s %s%n", "[" + s.name() + "]", what);
      out.flush();
    }
  }
}
