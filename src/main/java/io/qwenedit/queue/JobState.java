package io.qwenedit.queue;

import java.util.Locale;

/** Where a job is in its life. */
public enum JobState {
  QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED, DEAD;

  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  public boolean terminal() {
    return this != QUEUED && this != RUNNING;
  }

  public static JobState parse(String s) {
    if (s == null) {
      throw new IllegalArgumentException("no state");
    }
    return valueOf(s.toUpperCase(Locale.ROOT));
  }
}
