package io.qwenedit.cli;

/** The command line was wrong: the message says what and how to get help; exit code 2. */
public final class UsageException extends RuntimeException {
  public UsageException(String message) {
    super(message, null, false, false);
  }
}
