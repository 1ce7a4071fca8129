package io.qwenedit.doctor;

import io.vertx.core.json.JsonObject;

/**
 * One thing {@code doctor} found.
 *
 * @param area what was checked: configuration, redis, comfyui, telegram, deployment
 * @param target which one (a Redis address, a ComfyUI URL, ...), or null
 * @param level OK and INFO are fine; WARN should be fixed; FAIL must be fixed (doctor exits 1)
 * @param summary what was found, in plain words
 * @param fix what to do about it (null when nothing needs doing)
 */
public record Finding(String area, String target, Level level, String summary, String fix) {
  /** How bad it is. */
  public enum Level { OK, INFO, WARN, FAIL }

  public static Finding ok(String area, String target, String summary) {
    return new Finding(area, target, Level.OK, summary, null);
  }

  public static Finding info(String area, String target, String summary) {
    return new Finding(area, target, Level.INFO, summary, null);
  }

  public static Finding warn(String area, String target, String summary, String fix) {
    return new Finding(area, target, Level.WARN, summary, fix);
  }

  public static Finding fail(String area, String target, String summary, String fix) {
    return new Finding(area, target, Level.FAIL, summary, fix);
  }

  public JsonObject toJson() {
    return new JsonObject().put("area", area).put("target", target).put("level", level.name().toLowerCase(java.util.Locale.ROOT))
        .put("summary", summary).put("fix", fix);
  }
}
