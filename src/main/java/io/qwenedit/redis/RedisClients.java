package io.qwenedit.redis;

import io.qwenedit.config.RedisConfig;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClientOptions;
import io.vertx.redis.client.ProtocolVersion;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;

/**
 * Builds Vert.x Redis clients the way every part of qwenedit needs them: RESP2, TCP keep-alive tuned so the kernel
 * reports a dead peer within about 25 s (native epoll transport), a bounded connect time, and a pool size chosen by
 * the caller (1 for a dedicated blocking client).
 */
public final class RedisClients {
  /** Kernel keep-alive: first probe after this many idle seconds. */
  static final int KEEPALIVE_IDLE_S = 10;
  static final int KEEPALIVE_INTERVAL_S = 5;
  static final int KEEPALIVE_COUNT = 3;
  /** Unacknowledged data for this long kills the connection (idle + interval x count, the Lettuce guide's rule). */
  static final int TCP_USER_TIMEOUT_MS = (KEEPALIVE_IDLE_S + KEEPALIVE_INTERVAL_S * KEEPALIVE_COUNT) * 1000;

  private RedisClients() {}

  public static RedisOptions options(RedisConfig cfg, int poolSize, String name) {
    NetClientOptions net = new NetClientOptions()
        .setConnectTimeout((int) cfg.connectTimeout().toMillis())
        .setTcpNoDelay(true)
        .setTcpKeepAlive(true)
        .setTcpUserTimeout(TCP_USER_TIMEOUT_MS);
    net.setTcpKeepAliveIdleSeconds(KEEPALIVE_IDLE_S);
    net.setTcpKeepAliveIntervalSeconds(KEEPALIVE_INTERVAL_S);
    net.setTcpKeepAliveCount(KEEPALIVE_COUNT);
    RedisOptions options = new RedisOptions()
        .setConnectionString(cfg.connectionString())
        .setNetClientOptions(net)
        .setPreferredProtocolVersion(ProtocolVersion.RESP2)
        // an ACL user (redis://user:password@...) is authenticated with HELLO ... AUTH; without one, the plain
        // handshake (AUTH only with a password) keeps working with Redis servers that predate HELLO
        .setProtocolNegotiation(hasUser(cfg.connectionString()))
        .setMaxPoolSize(poolSize)
        .setMaxPoolWaiting(Math.max(64, poolSize * 64))
        .setMaxWaitingHandlers(8192)
        .setPoolName("redis-" + name)
        .setMetricsName(name);
    return options;
  }

  static boolean hasUser(String connectionString) {
    try {
      String userInfo = java.net.URI.create(connectionString).getRawUserInfo();
      return userInfo != null && !userInfo.isEmpty() && !userInfo.startsWith(":");
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  public static Redis create(Vertx vertx, RedisConfig cfg, int poolSize, String name) {
    return Redis.createClient(vertx, options(cfg, poolSize, name));
  }
}
