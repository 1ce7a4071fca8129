package io.qwenedit.demo;

import io.qwenedit.config.RedisConfig;
import io.qwenedit.redis.LocalRedisServer;
import io.qwenedit.redis.RedisCommands;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The demo's Redis: the one already answering at the configured (or default) address when there is one, else a
 * redis-server started on that loopback port (or a free one when the port is taken): the one on the PATH, else the
 * binary bundled in the jar. Nothing is installed and nothing is downloaded.
 *
 * @param url the connection string the demo uses
 * @param shared true when the Redis was already running: the demo then keeps its keys under a prefix of their own
 * @param owned the server the demo started (stopped with it), or null
 * @param story one line for the person: what was found or started
 */
public record DemoRedis(String url, boolean shared, LocalRedisServer owned, String story) implements AutoCloseable {

  /** Blocking (called from the command's main thread). */
  public static DemoRedis prepare(Vertx vertx, RedisConfig configured) {
    if (answers(vertx, configured)) {
      return new DemoRedis(configured.connectionString(), true, null, "using the Redis already answering at " + configured.displayAddress());
    }
    URI uri = URI.create(configured.connectionString());
    String host = uri.getHost();
    if (!"redis".equalsIgnoreCase(uri.getScheme()) || host == null || !loopback(host)) {
      throw new IllegalStateException("Redis at " + configured.displayAddress() + " does not answer, and the demo can only start a"
          + " Redis of its own on this machine. Start that Redis, or unset REDIS_URL / REDIS_HOST so the demo starts its own.");
    }
    int wanted = uri.getPort() < 0 ? 6379 : uri.getPort();
    int port = LocalRedisServer.portFree(wanted) ? wanted : LocalRedisServer.freePort();
    Path binary = LocalRedisServer.installedBinary();
    String which = binary == null ? "the redis-server bundled in the jar" : "redis-server from " + binary;
    if (binary == null) {
      binary = LocalRedisServer.bundledBinary();
      if (binary == null) {
        throw new IllegalStateException("No redis-server is installed and none is bundled for " + System.getProperty("os.name") + "/"
            + System.getProperty("os.arch") + ": install Redis 6.2 or newer, or point REDIS_URL at one");
      }
    }
    LocalRedisServer server = LocalRedisServer.start(binary, port, List.of("--appendonly", "no"));
    String db = uri.getPath() == null || uri.getPath().length() <= 1 ? "0" : uri.getPath().substring(1);
    String story = "started " + which + " on 127.0.0.1:" + port + (port != wanted ? " (port " + wanted + " is taken by something that is not Redis)" : "")
        + "; its data is thrown away when the demo stops";
    return new DemoRedis("redis://127.0.0.1:" + port + "/" + db, false, server, story);
  }

  private static boolean answers(Vertx vertx, RedisConfig configured) {
    RedisCommands probe = new RedisCommands(vertx, configured, "demo-probe");
    try {
      probe.send(Command.PING).await(configured.connectTimeout().toMillis() + configured.commandTimeout().toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (Exception e) {
      return false;
    } finally {
      try {
        probe.close().await(2, TimeUnit.SECONDS);
      } catch (Exception ignored) {
        // a probe that failed to close is harmless
      }
    }
  }

  private static boolean loopback(String host) {
    try {
      return "localhost".equalsIgnoreCase(host) || InetAddress.getByName(host).isLoopbackAddress();
    } catch (Exception e) {
      return false;
    }
  }

  @Override
  public void close() {
    if (owned != null) {
      owned.close();
    }
  }
}
