package io.qwenedit.config;

/** A configuration problem, worded for the operator: one line naming the setting, the value and what is allowed. */
public final class ConfigException extends RuntimeException {
  public ConfigException(String message) {
    super(message, null, false, false);
  }
}
