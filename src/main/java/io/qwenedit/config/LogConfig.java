package io.qwenedit.config;

import ch.qos.logback.core.util.FileSize;

/**
 * Where and how service commands log (the console always; a rolling file per role under {@code LOG_DIR}).
 *
 * @param dir directory of the per-role log files ({@code LOG_DIR}); empty: console only
 * @param json one JSON object per line instead of text ({@code LOG_FORMAT=json}), on the console and in the file
 * @param maxFileSize a log file rolls over at this size ({@code LOG_FILE_MAX_SIZE}, e.g. 50MB)
 * @param maxHistoryDays rolled files are kept this many days ({@code LOG_FILE_MAX_HISTORY})
 * @param totalSizeCap the rolled files of one role never take more than this ({@code LOG_FILE_TOTAL_CAP}, e.g. 1GB)
 */
public record LogConfig(String dir, boolean json, String maxFileSize, int maxHistoryDays, String totalSizeCap) {

  static LogConfig from(Settings s) {
    return new LogConfig(
        s.string("LOG_DIR", "logs"),
        "json".equals(s.choice("LOG_FORMAT", "text", "text", "json")),
        size(s, "LOG_FILE_MAX_SIZE", "50MB"),
        (int) s.integer("LOG_FILE_MAX_HISTORY", 14, 1, 3650),
        size(s, "LOG_FILE_TOTAL_CAP", "1GB"));
  }

  private static String size(Settings s, String name, String fallback) {
    String v = s.string(name, fallback);
    try {
      FileSize.valueOf(v);
      return v;
    } catch (IllegalArgumentException e) {
      throw new ConfigException("Invalid setting " + name + "=\"" + v + "\" (from " + s.source(name)
          + "): expected a size such as 500KB, 50MB or 1GB");
    }
  }

  public long maxFileBytes() {
    return FileSize.valueOf(maxFileSize).getSize();
  }

  /**
   * How many rolled copies an owned ComfyUI's output file keeps: as many as fit in
   * {@code LOG_FILE_TOTAL_CAP} with the live file, at least one.
   */
  public int rolledFilesKept() {
    long each = maxFileBytes();
    return (int) Math.max(1, Math.min(1000, FileSize.valueOf(totalSizeCap).getSize() / Math.max(1, each) - 1));
  }

  /** True when a log file is written (LOG_DIR is not empty). */
  public boolean toFile() {
    return dir != null && !dir.isBlank();
  }
}
