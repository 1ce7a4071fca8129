package io.qwenedit.api;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * Who may call the API. With keys configured, a request must present one ({@code Authorization: Bearer <key>} or
 * {@code X-API-Key: <key>}); it is then known by the key's fingerprint, never by the key (logs, Redis keys and job
 * records only ever see the fingerprint). With no keys the API is open, but only to requests from this machine.
 */
public final class ApiKeys {
  /** The outcome of looking at a request's credentials. */
  public record Verdict(int status, String client, String code, String message) {
    public boolean allowed() {
      return status == 0;
    }
  }

  private final List<byte[]> digests;

  public ApiKeys(List<String> keys) {
    this.digests = keys.stream().map(ApiKeys::sha256).toList();
  }

  public boolean open() {
    return digests.isEmpty();
  }

  /**
   * Decides on one request.
   *
   * @param presented the key the request carries, or null
   * @param remoteIp the peer's IP address (textual)
   * @param forwarded true when the request carries Forwarded / X-Forwarded-For: it came through a proxy, so the
   *     peer address says nothing about where the client is
   */
  public Verdict check(String presented, String remoteIp, boolean forwarded) {
    if (open()) {
      if (forwarded || !isLoopback(remoteIp)) {
        return new Verdict(403, null, "local_only", "This API has no API keys configured, so it only answers requests made on"
            + " the machine it runs on. The operator can set API_KEYS to let other clients in.");
      }
      return new Verdict(0, "local", null, null);
    }
    if (presented == null || presented.isBlank()) {
      return new Verdict(401, null, "unauthorized", "An API key is required: send it as 'Authorization: Bearer <key>' or"
          + " 'X-API-Key: <key>'.");
    }
    byte[] digest = sha256(presented.strip());
    boolean match = false;
    for (byte[] d : digests) {
      // Compare against every key, in constant time, so timing says nothing about which or how much matched.
      match |= MessageDigest.isEqual(d, digest);
    }
    if (!match) {
      return new Verdict(403, null, "forbidden", "This API key is not valid. Check the key you were given.");
    }
    return new Verdict(0, fingerprint(presented.strip()), null, null);
  }

  /** The key from {@code Authorization: Bearer <key>} or {@code X-API-Key}, or null. */
  public static String presented(String authorization, String xApiKey) {
    if (authorization != null) {
      String a = authorization.strip();
      if (a.regionMatches(true, 0, "Bearer ", 0, 7)) {
        return a.substring(7).strip();
      }
    }
    return xApiKey == null || xApiKey.isBlank() ? null : xApiKey.strip();
  }

  /** A short stable name for a key that does not reveal it: {@code key-} and 12 hex digits of its SHA-256. */
  public static String fingerprint(String key) {
    return "key-" + HexFormat.of().formatHex(sha256(key)).substring(0, 12);
  }

  static boolean isLoopback(String ip) {
    if (ip == null || ip.isBlank()) {
      return false;
    }
    String literal = ip.strip().replace("[", "").replace("]", "");
    // Only IP literals go on to InetAddress, so no name lookup can ever happen here.
    boolean v4 = literal.matches("\\d{1,3}(\\.\\d{1,3}){3}");
    boolean v6 = literal.contains(":") && literal.matches("[0-9a-fA-F:.]+(%[A-Za-z0-9_.-]+)?");
    if (!v4 && !v6) {
      return false;
    }
    try {
      return InetAddress.getByName(literal).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this Java runtime", e);
    }
  }
}
