package io.qwenedit.config;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * Where Redis is and how to talk to it. {@code REDIS_URL} (with password and TLS: {@code rediss://}) wins over
 * {@code REDIS_HOST}/{@code REDIS_PORT}/{@code REDIS_DB}/{@code REDIS_PASSWORD}.
 *
 * @param connectionString the full connection string handed to the Vert.x Redis client (may hold a password)
 * @param displayAddress host:port/db for messages and logs (never the password)
 * @param prefix key prefix, default {@code qwenedit:}
 * @param commandTimeout time limit for one ordinary command; past it the pooled client is replaced
 * @param connectTimeout TCP connect limit
 * @param poolSize pooled connections for ordinary commands
 */
public record RedisConfig(
    String connectionString,
    String displayAddress,
    String prefix,
    Duration commandTimeout,
    Duration connectTimeout,
    int poolSize) {

  static RedisConfig from(Settings s) {
    String prefix = s.string("QWENEDIT_PREFIX", "qwenedit:");
    if (!prefix.matches("[A-Za-z0-9:_.\\-]{1,64}")) {
      throw new ConfigException("Invalid setting QWENEDIT_PREFIX=\"" + prefix + "\" (from " + s.source("QWENEDIT_PREFIX")
          + "): expected 1-64 letters, digits or : _ . - (e.g. qwenedit:)");
    }
    Duration commandTimeout = s.seconds("REDIS_COMMAND_TIMEOUT", Duration.ofSeconds(5), Duration.ofMillis(100), Duration.ofMinutes(5));
    Duration connectTimeout = s.seconds("REDIS_CONNECT_TIMEOUT", Duration.ofSeconds(3), Duration.ofMillis(100), Duration.ofMinutes(5));
    int poolSize = (int) s.integer("REDIS_POOL_SIZE", 4, 1, 64);
    URI url = s.url("REDIS_URL", null, "redis", "rediss", "unix");
    String host = s.string("REDIS_HOST", "127.0.0.1");
    int port = s.port("REDIS_PORT", 6379);
    int db = (int) s.integer("REDIS_DB", 0, 0, 15);
    String password = s.string("REDIS_PASSWORD", null);
    if (url != null) {
      String conn = url.toString();
      if (password != null && url.getUserInfo() == null && !"unix".equalsIgnoreCase(url.getScheme())) {
        // REDIS_PASSWORD completes a REDIS_URL that carries none.
        conn = url.getScheme() + "://:" + enc(password) + "@" + url.getRawAuthority() + (url.getRawPath() == null ? "" : url.getRawPath());
      }
      String shown = "unix".equalsIgnoreCase(url.getScheme()) ? url.getPath()
          : url.getHost() + ":" + (url.getPort() < 0 ? 6379 : url.getPort()) + pathOf(url);
      return new RedisConfig(conn, shown, prefix, commandTimeout, connectTimeout, poolSize);
    }
    String auth = password == null ? "" : ":" + enc(password) + "@";
    String hostPart = host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
    return new RedisConfig("redis://" + auth + hostPart + ":" + port + "/" + db, host + ":" + port + "/" + db,
        prefix, commandTimeout, connectTimeout, poolSize);
  }

  private static String pathOf(URI url) {
    String p = url.getPath();
    return p == null || p.isEmpty() || "/".equals(p) ? "/0" : p;
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  /** Same settings pointed at another connection string (tests, demo). */
  public RedisConfig withConnectionString(String conn, String display) {
    return new RedisConfig(conn, display, prefix, commandTimeout, connectTimeout, poolSize);
  }

  @Override
  public String toString() {
    return "RedisConfig[" + displayAddress + ", prefix=" + prefix + "]";
  }
}
