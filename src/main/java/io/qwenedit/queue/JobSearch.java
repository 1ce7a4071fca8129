package io.qwenedit.queue;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Finds jobs by who asked for them (fields of the record's {@code source} JSON: chat, user, client, kind...), for
 * operators ({@code jobs find}). There is no index by person: it walks every job record with {@code SCAN} in batches
 * of {@value #SCAN_COUNT} keys and reads each one's {@code source} field in one pipelined round trip per batch, so it
 * costs one pass over the keyspace (about N / {@value #SCAN_COUNT} SCAN calls plus N HGETs for N job records) and
 * never blocks Redis for long. Fine for an operator now and then; not for a request path.
 */
public final class JobSearch {
  static final int SCAN_COUNT = 1000;

  /**
   * @param jobs the newest matches first, at most the limit
   * @param scanned job records looked at
   * @param matched all matches (may exceed {@code jobs.size()})
   */
  public record Found(List<Job> jobs, long scanned, long matched) {}

  private record Hit(String id, long createdAt) {}

  private final JobQueue queue;

  public JobSearch(JobQueue queue) {
    this.queue = queue;
  }

  /**
   * Jobs whose {@code source} has every given field equal to the given value (compared as text, so a chat id given
   * on the command line matches the number in the record).
   */
  public Future<Found> bySource(Map<String, String> match, int limit) {
    List<Hit> hits = new ArrayList<>();
    long[] scanned = {0};
    return scan("0", match, hits, scanned).compose(v -> {
      hits.sort(Comparator.comparingLong(Hit::createdAt).reversed());
      List<String> ids = hits.stream().limit(limit).map(Hit::id).toList();
      return queue.jobs(ids).map(jobs -> new Found(jobs, scanned[0], hits.size()));
    });
  }

  /** True when every field of {@code match} is in {@code source} with the same text. */
  static boolean matches(JsonObject source, Map<String, String> match) {
    if (source == null) {
      return false;
    }
    for (Map.Entry<String, String> e : match.entrySet()) {
      Object v = source.getValue(e.getKey());
      if (v == null || !String.valueOf(v).equals(e.getValue())) {
        return false;
      }
    }
    return true;
  }

  private Future<Void> scan(String cursor, Map<String, String> match, List<Hit> hits, long[] scanned) {
    String prefix = queue.keys().jobPrefix();
    return queue.redis().send(Command.SCAN, cursor, "MATCH", prefix + "*", "COUNT", SCAN_COUNT).compose(r -> {
      String next = r.get(0).toString();
      List<String> keys = JobQueue.strings(r.get(1));
      Future<Void> batch = keys.isEmpty() ? Future.succeededFuture()
          : queue.redis().batch(keys.stream().map(k -> Request.cmd(Command.HMGET).arg(k).arg("source").arg("created_at")).toList())
              .map(rs -> {
                for (int i = 0; i < rs.size(); i++) {
                  scanned[0]++;
                  Response fields = rs.get(i);
                  JsonObject source = parse(fields.get(0));
                  if (matches(source, match)) {
                    Response created = fields.get(1);
                    hits.add(new Hit(keys.get(i).substring(prefix.length()),
                        created == null ? 0 : (long) Double.parseDouble(created.toString())));
                  }
                }
                return null;
              });
      return batch.compose(v -> "0".equals(next) ? Future.succeededFuture() : scan(next, match, hits, scanned));
    });
  }

  private static JsonObject parse(Response r) {
    if (r == null) {
      return null;
    }
    try {
      return new JsonObject(r.toString());
    } catch (RuntimeException e) {
      return null; // a broken source field matches nothing
    }
  }
}
