package io.qwenedit.cli;

/** Process exit codes, documented in README.md; scripts rely on them. */
public final class ExitCodes {
  public static final int OK = 0;
  /** The operation or the job failed (e.g. {@code submit --wait} of a job that failed). */
  public static final int FAILED = 1;
  /** Bad command line or bad configuration. */
  public static final int USAGE = 2;
  /** Redis could not be reached. */
  public static final int UNAVAILABLE = 3;
  /** A wait ran out (e.g. {@code submit --wait --timeout}). */
  public static final int TIMEOUT = 4;

  private ExitCodes() {}
}
