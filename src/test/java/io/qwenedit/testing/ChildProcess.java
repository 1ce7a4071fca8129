package io.qwenedit.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A qwenedit command running in a child JVM on the test's classpath (what {@code java -jar qwenedit.jar <command>}
 * does), so a test can kill it with SIGKILL, stop it with SIGTERM, and read its log. Destroyed on close and by a
 * shutdown hook if the test JVM dies first.
 */
public final class ChildProcess implements AutoCloseable {
  private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(p -> {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    })));
  }

  private final Process process;
  private final Path log;

  private ChildProcess(Process process, Path log) {
    this.process = process;
    this.log = log;
  }

  /** Starts {@code qwenedit <args>} with these environment variables added (the test's own environment kept). */
  public static ChildProcess start(Map<String, String> env, Path workDir, String... args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
        "io.qwenedit.cli.Main"));
    cmd.addAll(List.of(args));
    Files.createDirectories(workDir);
    Path log = Files.createTempFile(workDir, "child-", ".log");
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile()).redirectErrorStream(true)
        .redirectOutput(log.toFile());
    pb.environment().putAll(env);
    Process p = pb.start();
    LIVE.add(p);
    return new ChildProcess(p, log);
  }

  public long pid() {
    return process.pid();
  }

  public boolean alive() {
    return process.isAlive();
  }

  /** SIGKILL: the process vanishes at once, mid-whatever. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(10, TimeUnit.SECONDS);
  }

  /** SIGTERM (what a service manager sends). */
  public void terminate() {
    process.destroy();
  }

  /** Waits for the exit code; null if it did not exit in time. */
  public Integer waitFor(long ms) throws InterruptedException {
    return process.waitFor(ms, TimeUnit.MILLISECONDS) ? process.exitValue() : null;
  }

  public String log() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  /** Waits until the log contains {@code text}; fails with the log if it does not appear in time or the process dies. */
  public void awaitLog(String text, long ms) throws InterruptedException {
    long deadline = System.currentTimeMillis() + ms;
    while (System.currentTimeMillis() < deadline) {
      if (log().contains(text)) {
        return;
      }
      if (!process.isAlive()) {
        throw new AssertionError("process exited (" + process.exitValue() + ") before logging \"" + text + "\":\n" + log());
      }
      Thread.sleep(50);
    }
    throw new AssertionError("no \"" + text + "\" in the log within " + ms + " ms:\n" + log());
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
    LIVE.remove(process);
  }
}
