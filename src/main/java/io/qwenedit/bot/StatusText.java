package io.qwenedit.bot;

import io.qwenedit.queue.JobError;
import io.vertx.core.json.JsonObject;
import java.util.Locale;

/**
 * What a person reads about their job: the status message as the job moves (queued with its place in line, editing
 * with a progress bar, done), the answer to /status, the plain-words reason of a failure, and whether a result fits
 * Telegram's photo rules. Pure functions of the job's state.
 */
public final class StatusText {
  /** sendPhoto refuses more than 10 MB, width + height over 10000, or a side ratio over 20. */
  static final long PHOTO_MAX_BYTES = 10L << 20;
  static final int PHOTO_MAX_SIDES = 10_000;
  static final double PHOTO_MAX_RATIO = 20;
  private static final int BAR_CELLS = 10;

  private StatusText() {}

  /** The facts a status message is made of. {@code position} is null when the job is not waiting in line. */
  public record View(String state, Integer position, JsonObject progress, boolean retrying, int attempts,
                     boolean cancelRequested, boolean noWorkers) {}

  /** The status message's text, or null for a finished job (delivery writes the last one). */
  public static String status(String lang, View v) {
    switch (v.state()) {
      case "queued": {
        String text;
        if (v.retrying()) {
          text = Texts.get(lang, "queued_retry", "attempt", Math.max(1, v.attempts()));
        } else if (v.position() == null || v.position() <= 1) {
          text = Texts.get(lang, "queued_next");
        } else {
          text = Texts.get(lang, "queued", "position", v.position());
        }
        return v.noWorkers() ? text + Texts.get(lang, "no_workers") : text;
      }
      case "running": {
        if (v.cancelRequested()) {
          return Texts.get(lang, "stopping");
        }
        Integer percent = percent(v.progress());
        return percent == null ? Texts.get(lang, "running")
            : Texts.get(lang, "progress", "percent", percent, "bar", bar(percent));
      }
      default:
        return null;
    }
  }

  /** The status message's final text once the job ended. */
  public static String finalStatus(String lang, String state) {
    switch (state) {
      case "succeeded":
        return Texts.get(lang, "status_done");
      case "cancelled":
        return Texts.get(lang, "status_cancelled");
      default:
        return Texts.get(lang, "status_failed");
    }
  }

  /** The /status answer's state part. */
  public static String stateForStatusCommand(String lang, View v) {
    switch (v.state()) {
      case "queued":
        return v.retrying() ? Texts.get(lang, "state_queued_retry")
            : Texts.get(lang, "state_queued", "position", v.position() == null ? 1 : v.position());
      case "running": {
        Integer percent = percent(v.progress());
        return percent == null ? Texts.get(lang, "state_running") : Texts.get(lang, "state_running_progress", "percent", percent);
      }
      default:
        return Texts.get(lang, "state_" + v.state());
    }
  }

  /** 0..100 from a progress record {@code {value, max}}, or null when there is none. */
  static Integer percent(JsonObject progress) {
    if (progress == null) {
      return null;
    }
    Number value = progress.getNumber("value");
    Number max = progress.getNumber("max");
    if (value == null || max == null || max.doubleValue() <= 0) {
      Number pct = progress.getNumber("percent");
      return pct == null ? null : (int) Math.max(0, Math.min(100, Math.round(pct.doubleValue())));
    }
    return (int) Math.max(0, Math.min(100, Math.floor(100.0 * value.doubleValue() / max.doubleValue())));
  }

  static String bar(int percent) {
    int full = Math.min(BAR_CELLS, percent * BAR_CELLS / 100);
    return "▓".repeat(full) + "░".repeat(BAR_CELLS - full);
  }

  /** The text key of a failure's reason, from its error code (the worker's codes are matched by family). */
  public static String reasonKey(String state, JobError error) {
    String code = error == null || error.code() == null ? "" : error.code().toLowerCase(Locale.ROOT);
    if ("dead".equals(state) && error != null && error.message() != null && error.message().startsWith("Gave up after")) {
      return "reason_gave_up";
    }
    if (code.contains("timeout") || code.contains("stall") || code.contains("hung")) {
      return "reason_timeout";
    }
    if (code.equals("lease_expired") || code.contains("unreachable") || code.contains("lost")) {
      return "reason_lost";
    }
    if (code.contains("image") || code.contains("input") || code.equals("bad_input") || code.contains("workflow")) {
      return "reason_input";
    }
    if (code.contains("comfy") || code.contains("server") || code.contains("gpu") || code.contains("oom")) {
      return "reason_server";
    }
    return "dead".equals(state) ? "reason_gave_up" : "reason_default";
  }

  /** True when Telegram will take the picture as a photo; otherwise it goes as a file. */
  public static boolean fitsPhoto(long bytes, int width, int height) {
    if (bytes > PHOTO_MAX_BYTES || width <= 0 || height <= 0) {
      return false;
    }
    double ratio = Math.max(width, height) / (double) Math.min(width, height);
    return width + height <= PHOTO_MAX_SIDES && ratio <= PHOTO_MAX_RATIO;
  }

  /** A caption no longer than Telegram allows (1024), cut at a character boundary. */
  static String caption(String text) {
    if (text.codePointCount(0, text.length()) <= 1024) {
      return text;
    }
    return text.substring(0, text.offsetByCodePoints(0, 1020)) + "…";
  }
}
