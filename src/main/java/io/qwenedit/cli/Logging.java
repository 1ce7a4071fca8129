package io.qwenedit.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import org.slf4j.LoggerFactory;

/** Sets where and how loud our loggers are, before and after the configuration is known. */
public final class Logging {
  private Logging() {}

  /** Before any logger exists: CLI commands log to stderr at WARN, services to stdout at INFO. */
  public static void prepare(boolean service) {
    System.setProperty("qwenedit.logTarget", service ? "System.out" : "System.err");
    System.setProperty("qwenedit.logLevel", service ? "INFO" : "WARN");
  }

  /** Applies WORKER_LOG_LEVEL (services only). */
  public static void level(String level) {
    ((Logger) LoggerFactory.getLogger("io.qwenedit")).setLevel(Level.toLevel(level, Level.INFO));
  }
}
