package io.qwenedit.redis;

import io.qwenedit.config.RedisConfig;
import java.net.ConnectException;

/** Redis could not be reached or did not answer in time; the message names the address and never a password. */
public final class RedisUnavailableException extends RuntimeException {
  public RedisUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }

  /** Redis error replies (WRONGTYPE, NOSCRIPT...) pass through; transport failures become this exception. */
  public static Throwable wrap(RedisConfig cfg, Throwable err) {
    if (err instanceof RedisUnavailableException) {
      return err;
    }
    String cls = err.getClass().getName();
    boolean transport = err instanceof ConnectException
        || err instanceof java.io.IOException
        || cls.startsWith("io.netty.channel")
        || (err.getMessage() != null && (err.getMessage().contains("Connection refused")
            || err.getMessage().contains("Connection is closed")
            || err.getMessage().contains("connection closed")
            || err.getMessage().contains("Client is closed")
            || err.getMessage().contains("CONNECTION_CLOSED")
            || err.getMessage().contains("Connection pool reached max wait queue size")));
    if (!transport) {
      return err;
    }
    return new RedisUnavailableException("Redis at " + cfg.displayAddress() + " is unreachable: " + reason(err), err);
  }

  private static String reason(Throwable err) {
    String m = err.getMessage();
    if (m != null && m.contains("Connection refused")) {
      return "connection refused";
    }
    if (m != null && m.toLowerCase(java.util.Locale.ROOT).contains("timed out")) {
      return "connection timed out";
    }
    if (m == null || m.isBlank()) {
      return err.getClass().getSimpleName();
    }
    int nl = m.indexOf('\n');
    return nl > 0 ? m.substring(0, nl) : m;
  }
}
