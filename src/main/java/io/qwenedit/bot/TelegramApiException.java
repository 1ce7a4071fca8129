package io.qwenedit.bot;

import io.vertx.core.json.JsonObject;
import java.util.Locale;

/**
 * A Bot API call that did not succeed: Telegram's {@code error_code} (the HTTP status) and {@code description}, with
 * {@code retry_after} and {@code migrate_to_chat_id} when Telegram gave them, or code 0 when Telegram could not be
 * reached or gave no readable answer. The classification follows the fact sheet: parameters first, then the status.
 */
public final class TelegramApiException extends RuntimeException {
  /** Code used when no HTTP answer came back (connection refused, reset, read limit passed). */
  public static final int NETWORK = 0;
  /** The description of a call whose read limit passed without an answer. */
  static final String NO_ANSWER = "no answer in time";

  private final int code;
  private final String description;
  private final int retryAfter;
  private final Long migrateToChatId;

  public TelegramApiException(int code, String description, int retryAfter, Long migrateToChatId) {
    super(describe(code, description), null, false, false);
    this.code = code;
    this.description = description == null ? "" : description;
    this.retryAfter = retryAfter;
    this.migrateToChatId = migrateToChatId;
  }

  public static TelegramApiException network(String why) {
    return new TelegramApiException(NETWORK, why, -1, null);
  }

  /** Builds the exception from an {@code ok=false} answer. */
  public static TelegramApiException fromResponse(int httpStatus, JsonObject body) {
    int code = body.getInteger("error_code", httpStatus);
    JsonObject params = body.getJsonObject("parameters");
    int retryAfter = params == null ? -1 : params.getInteger("retry_after", -1);
    Long migrate = params == null ? null : params.getLong("migrate_to_chat_id");
    return new TelegramApiException(code, body.getString("description", "HTTP " + httpStatus), retryAfter, migrate);
  }

  private static String describe(int code, String description) {
    return code == NETWORK ? "Telegram unreachable: " + description : "Telegram answered " + code + ": " + description;
  }

  public int code() {
    return code;
  }

  public String description() {
    return description;
  }

  /** Seconds Telegram asked us to wait (429), or -1. */
  public int retryAfter() {
    return retryAfter;
  }

  /** The supergroup a group chat became, or null. */
  public Long migrateToChatId() {
    return migrateToChatId;
  }

  public boolean floodWait() {
    return retryAfter >= 0 || code == 429;
  }

  /** 403: the person blocked the bot, deleted their account, or the bot was removed from the group. */
  public boolean forbidden() {
    return code == 403;
  }

  public boolean conflict() {
    return code == 409;
  }

  public boolean unauthorized() {
    return code == 401;
  }

  /** Network trouble or a server-side error: the same call may well succeed later. */
  public boolean transientFailure() {
    return code == NETWORK || code >= 500;
  }

  /** Telegram will never take this call as it is: neither network or server trouble nor a request to wait. */
  public boolean permanent() {
    return !transientFailure() && !floodWait();
  }

  /** An edit that would change nothing: harmless. */
  public boolean notModified() {
    return code == 400 && description.toLowerCase(Locale.ROOT).contains("message is not modified");
  }

  /** The message to edit or reply to is gone (deleted by the person, or older than Telegram allows). */
  public boolean messageGone() {
    String d = description.toLowerCase(Locale.ROOT);
    return code == 400 && (d.contains("message to edit not found") || d.contains("message can't be edited")
        || d.contains("message to delete not found"));
  }

  /** The label used in metrics: the numeric code, or "timeout" / "network" when there was no answer. */
  public String metricCode() {
    if (code != NETWORK) {
      return String.valueOf(code);
    }
    return NO_ANSWER.equals(description) ? "timeout" : "network";
  }

  /** The answer in Telegram's own shape, to pass over the event bus. */
  public JsonObject toJson() {
    JsonObject j = new JsonObject().put("ok", false).put("error_code", code).put("description", description);
    if (retryAfter >= 0 || migrateToChatId != null) {
      JsonObject p = new JsonObject();
      if (retryAfter >= 0) {
        p.put("retry_after", retryAfter);
      }
      if (migrateToChatId != null) {
        p.put("migrate_to_chat_id", migrateToChatId);
      }
      j.put("parameters", p);
    }
    return j;
  }
}
