package io.qwenedit.cli;

import io.qwenedit.config.Config;
import io.qwenedit.config.ConfigLoader;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;

/** What a command runs with: its output streams, environment, working directory and (loaded once) configuration. */
public final class CliContext {
  private final PrintStream out;
  private final PrintStream err;
  private final java.io.InputStream in;
  private final Map<String, String> env;
  private final Path workDir;
  private final Path configFile;
  private final boolean terminal;
  private Config config;

  public CliContext(PrintStream out, PrintStream err, Map<String, String> env, Path workDir, Path configFile, boolean terminal) {
    this(out, err, System.in, env, workDir, configFile, terminal);
  }

  public CliContext(PrintStream out, PrintStream err, java.io.InputStream in, Map<String, String> env, Path workDir, Path configFile,
      boolean terminal) {
    this.in = in;
    this.out = out;
    this.err = err;
    this.env = env;
    this.workDir = workDir;
    this.configFile = configFile;
    this.terminal = terminal;
  }

  public PrintStream out() {
    return out;
  }

  public PrintStream err() {
    return err;
  }

  /** Where a confirmation ("y/N") is read from. */
  public java.io.InputStream in() {
    return in;
  }

  /** The file given with --config, or null. */
  public Path configFile() {
    return configFile;
  }

  public Map<String, String> env() {
    return env;
  }

  public Path workDir() {
    return workDir;
  }

  /** True when stdout is an interactive terminal (progress bars, colours). */
  public boolean terminal() {
    return terminal;
  }

  /** The configuration, built and validated on first use; a bad value throws ConfigException (exit 2). */
  public synchronized Config config() {
    if (config == null) {
      config = ConfigLoader.load(workDir, env, configFile);
      config.warnings().forEach(w -> err.println("warning: " + w));
    }
    return config;
  }

  public Path resolve(String file) {
    Path p = Path.of(file);
    return p.isAbsolute() ? p : workDir.resolve(p);
  }
}
