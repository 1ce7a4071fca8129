package io.qwenedit.api;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A request the API answers with an error: HTTP status, a stable machine code and a message for the person who sent
 * it. Handlers fail the routing context with it; {@link ApiErrors} writes it as {@code {"error":{"code","message"}}}.
 */
public final class ApiException extends RuntimeException {
  private final int status;
  private final String code;
  private final Map<String, String> headers = new LinkedHashMap<>();
  private boolean closeConnection;

  public ApiException(int status, String code, String message) {
    super(message, null, false, false);
    this.status = status;
    this.code = code;
  }

  public int status() {
    return status;
  }

  public String code() {
    return code;
  }

  public Map<String, String> headers() {
    return headers;
  }

  /** Adds {@code Retry-After} (whole seconds, at least 1). */
  public ApiException retryAfter(long seconds) {
    headers.put("Retry-After", String.valueOf(Math.max(1, seconds)));
    return this;
  }

  public ApiException header(String name, String value) {
    headers.put(name, value);
    return this;
  }

  /** Close the connection after the answer: the client is still sending a body we refuse to read. */
  public ApiException closing() {
    this.closeConnection = true;
    return this;
  }

  public boolean closeConnection() {
    return closeConnection;
  }
}
