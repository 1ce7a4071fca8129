package io.qwenedit.cli;

import io.qwenedit.config.Config;
import io.qwenedit.queue.JobQueue;
import io.qwenedit.queue.Registry;
import io.qwenedit.redis.RedisCommands;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.redis.client.Command;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A short-lived Vert.x + Redis session for one CLI command: connects, checks Redis answers (a clear error naming
 * the address otherwise, never a hang), and closes everything at the end.
 */
final class QueueSession implements AutoCloseable {
  final Vertx vertx;
  final Config config;
  final RedisCommands redis;
  final JobQueue queue;
  final Registry workers;
  final Registry services;

  private QueueSession(Vertx vertx, Config config) {
    this.vertx = vertx;
    this.config = config;
    this.redis = new RedisCommands(vertx, config.redis(), "cli");
    this.queue = new JobQueue(redis, config.queue());
    this.workers = Registry.workers(redis, queue.keys());
    this.services = Registry.services(redis, queue.keys());
  }

  static QueueSession open(CliContext ctx) {
    Config cfg = ctx.config();
    Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true).setEventLoopPoolSize(1).setWorkerPoolSize(2));
    QueueSession s = new QueueSession(vertx, cfg);
    try {
      s.await(s.redis.send(Command.PING));
    } catch (Throwable e) {
      s.close();
      throw e;
    }
    return s;
  }

  /** Waits for a future from the CLI's main thread, with a generous bound (commands have their own time limits). */
  <T> T await(Future<T> f) {
    long limit = config.redis().commandTimeout().toMillis() + config.redis().connectTimeout().toMillis() + 5_000;
    try {
      return f.await(limit, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new io.qwenedit.redis.RedisUnavailableException("Redis at " + config.redis().displayAddress()
          + " did not answer within " + limit + " ms", e);
    }
  }

  @Override
  public void close() {
    try {
      redis.close().await(2, TimeUnit.SECONDS);
    } catch (Exception ignored) {
      // closing anyway
    }
    try {
      vertx.close().await(5, TimeUnit.SECONDS);
    } catch (Exception ignored) {
      // the process is about to exit
    }
  }
}
