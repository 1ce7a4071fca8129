package io.qwenedit.queue;

import static io.qwenedit.testing.Await.await;

import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;

/** Records in line that cannot be read as jobs, written straight into a test's Redis. */
final class BrokenRecords {
  private BrokenRecords() {}

  /** Queues {@code id} at {@code score} with a record whose params are not JSON: a claim must dead-letter it. */
  static void queueUnreadable(JobQueue q, String id, long score) {
    await(q.redis().send(Request.cmd(Command.HSET).arg(q.keys().job(id)).arg("id").arg(id).arg("state").arg("queued")
        .arg("prompt").arg("x").arg("input").arg("nothing.png").arg("params").arg("{not json").arg("seq").arg(score)));
    await(q.redis().send(Command.ZADD, q.keys().waiting(), score, id));
  }
}
