package io.qwenedit.redis;

import io.qwenedit.config.RedisConfig;
import java.net.ConnectException;
import java.util.List;

/**
 * Redis could not be reached, did not answer in time, or answered that it cannot serve now (still loading its data, a
 * read-only replica, out of memory, unable to persist, busy with a script): callers keep the request and try again
 * later. The message names the address and never a password.
 */
public final class RedisUnavailableException extends RuntimeException {
  /** Replies of a Redis that is there but cannot serve now: the request is not at fault and works once it can. */
  private static final List<String> TRY_AGAIN_REPLIES = List.of("LOADING ", "READONLY ", "OOM ", "MISCONF ", "BUSY ",
      "MASTERDOWN ", "TRYAGAIN ");

  private final boolean connectionLost;

  public RedisUnavailableException(String message, Throwable cause) {
    this(message, cause, true);
  }

  private RedisUnavailableException(String message, Throwable cause, boolean connectionLost) {
    super(message, cause);
    this.connectionLost = connectionLost;
  }

  /** False when Redis answered (that it cannot serve now): the connection itself is fine and is kept. */
  public boolean connectionLost() {
    return connectionLost;
  }

  /**
   * Redis error replies about the request (WRONGTYPE, NOSCRIPT...) pass through; transport failures and replies that
   * mean "not now" ({@link #TRY_AGAIN_REPLIES}) become this exception.
   */
  public static Throwable wrap(RedisConfig cfg, Throwable err) {
    if (err instanceof RedisUnavailableException) {
      return err;
    }
    String m = err.getMessage();
    if (m != null && tryAgainReply(m)) {
      return new RedisUnavailableException("Redis at " + cfg.displayAddress() + " cannot serve requests right now: "
          + reason(err), err, false);
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

  /** A "not now" reply, alone or among a batch's replies (which the client reports as lines "ERR [i] <reply>"). */
  private static boolean tryAgainReply(String message) {
    for (String line : message.split("\n")) {
      String reply = line.replaceFirst("^ERR \\[\\d+\\] ", "");
      if (TRY_AGAIN_REPLIES.stream().anyMatch(reply::startsWith)) {
        return true;
      }
    }
    return false;
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
