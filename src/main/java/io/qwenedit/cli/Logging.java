package io.qwenedit.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.rolling.RollingFileAppender;
import ch.qos.logback.core.rolling.SizeAndTimeBasedRollingPolicy;
import ch.qos.logback.core.util.FileSize;
import io.qwenedit.config.LogConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.LoggerFactory;
import org.slf4j.event.KeyValuePair;

/**
 * Sets where and how loud our loggers are. Every command logs to the console; a service command (worker, api, bot,
 * all, demo, emulator) also writes a rolling file of its own, {@code LOG_DIR/<role>.log}, in text or JSON.
 *
 * <p>Lines about a job carry its id as {@code job <id>} in the message (the convention every part follows); the
 * JSON format also gives it as the {@code job_id} key, so a log store can index it.
 */
public final class Logging {
  static final String PATTERN = "%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level [%thread] %logger{24} - %msg%n";
  private static final Pattern JOB_ID = Pattern.compile("\\bjob ([0-9a-hjkmnp-tv-z]{13})\\b");
  private static volatile boolean service;

  private Logging() {}

  /** Before any logger exists: CLI commands log to stderr at WARN, services to stdout at INFO. */
  public static void prepare(boolean isService) {
    service = isService;
    System.setProperty("qwenedit.logTarget", isService ? "System.out" : "System.err");
    System.setProperty("qwenedit.logLevel", isService ? "INFO" : "WARN");
  }

  /** Applies WORKER_LOG_LEVEL (services only). */
  public static void level(String level) {
    ((Logger) LoggerFactory.getLogger("io.qwenedit")).setLevel(Level.toLevel(level, Level.INFO));
  }

  /**
   * A service command's logging, once its configuration is known: {@code WORKER_LOG_LEVEL}, the console in the chosen
   * format, and the rolling file {@code LOG_DIR/<role>.log}. Does nothing to the files when the process was not
   * started as a service (tests run commands in-process through {@link Main#run}).
   *
   * @return the log file, or null when there is none
   */
  public static Path service(String role, LogConfig log, String level, PrintStream err) {
    level(level);
    if (!service) {
      return null;
    }
    LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
    Logger root = ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    if (log.json()) {
      ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
      console.setContext(ctx);
      console.setName("CONSOLE");
      console.setEncoder(encoder(ctx, true));
      console.start();
      var previous = root.getAppender("CONSOLE");
      root.detachAppender("CONSOLE");
      root.addAppender(console);
      if (previous != null) {
        previous.stop();
      }
    }
    if (!log.toFile()) {
      return null;
    }
    Path dir = Path.of(log.dir()).toAbsolutePath();
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      err.println("warning: cannot create the log directory " + dir + " (" + e.getMessage() + "); logging to the console only."
          + " Set LOG_DIR to a writable directory.");
      return null;
    }
    Path file = dir.resolve(role + ".log");
    RollingFileAppender<ILoggingEvent> appender = new RollingFileAppender<>();
    appender.setContext(ctx);
    appender.setName("FILE");
    appender.setFile(file.toString());
    SizeAndTimeBasedRollingPolicy<ILoggingEvent> policy = new SizeAndTimeBasedRollingPolicy<>();
    policy.setContext(ctx);
    policy.setParent(appender);
    policy.setFileNamePattern(dir.resolve(role + ".%d{yyyy-MM-dd}.%i.log.gz").toString());
    policy.setMaxFileSize(FileSize.valueOf(log.maxFileSize()));
    policy.setMaxHistory(log.maxHistoryDays());
    policy.setTotalSizeCap(FileSize.valueOf(log.totalSizeCap()));
    policy.start();
    appender.setRollingPolicy(policy);
    appender.setEncoder(encoder(ctx, log.json()));
    appender.start();
    if (!appender.isStarted()) {
      err.println("warning: cannot write the log file " + file + "; logging to the console only. Set LOG_DIR to a writable directory.");
      return null;
    }
    root.detachAppender("FILE");
    root.addAppender(appender);
    return file;
  }

  private static Encoder<ILoggingEvent> encoder(LoggerContext ctx, boolean json) {
    if (json) {
      JobJsonEncoder e = new JobJsonEncoder();
      e.setContext(ctx);
      e.setWithContext(false);
      e.setWithSequenceNumber(false);
      e.setWithNanoseconds(false);
      e.setWithArguments(false);
      e.setWithMessage(false); // the formatted message is what a person reads; the raw one has {} holes
      e.setWithFormattedMessage(true);
      e.start();
      return e;
    }
    PatternLayoutEncoder e = new PatternLayoutEncoder();
    e.setContext(ctx);
    e.setPattern(PATTERN);
    e.start();
    return e;
  }

  /**
   * Only errors on the console from now on (the demo's own narrative is the console; its log file keeps every line).
   */
  public static void quietConsole() {
    if (!service) {
      return;
    }
    LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
    var console = ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).getAppender("CONSOLE");
    if (console != null) {
      ch.qos.logback.classic.filter.ThresholdFilter errorsOnly = new ch.qos.logback.classic.filter.ThresholdFilter();
      errorsOnly.setLevel("ERROR");
      errorsOnly.setContext(ctx);
      errorsOnly.start();
      console.addFilter(errorsOnly);
    }
  }

  /** The job id a log line is about ({@code job <id>} in its message), or null. */
  static String jobId(String message) {
    if (message == null) {
      return null;
    }
    Matcher m = JOB_ID.matcher(message);
    return m.find() ? m.group(1) : null;
  }

  /** logback's JSON encoder, plus the job id of a line about a job as the key-value pair {@code job_id}. */
  static final class JobJsonEncoder extends JsonEncoder {
    @Override
    public byte[] encode(ILoggingEvent event) {
      if (event instanceof LoggingEvent le) {
        String id = jobId(le.getFormattedMessage());
        // one event goes through every appender: add the pair once
        if (id != null && (le.getKeyValuePairs() == null || le.getKeyValuePairs().stream().noneMatch(p -> "job_id".equals(p.key)))) {
          le.addKeyValuePair(new KeyValuePair("job_id", id));
        }
      }
      return super.encode(event);
    }
  }
}
