package io.qwenedit.supervision;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A ComfyUI server this worker owns (when {@code COMFYUI_COMMAND} is set): started from the command with {port},
 * {gpu} and {url} filled in for its GPU, run without a shell (so it works the same on Windows), its output appended
 * to a log file, and stopped by killing its whole process tree (a wedged ComfyUI ignores polite requests).
 */
public final class ComfyProcess {
  private static final Logger LOG = LoggerFactory.getLogger(ComfyProcess.class);

  private final String gpuName;
  private final List<String> command;
  private final Path logFile;
  private final AppendedLog log;
  private boolean closed;
  // read without the lock (health details, on an event loop) while killTree may hold it for up to 10 s
  private volatile Process process;
  private volatile int starts;
  /** Told when a started process ends: each keeper adds its own at start and removes it at stop. */
  private final List<Runnable> exitListeners = new CopyOnWriteArrayList<>();

  /**
   * @param logDir       where its output goes, {@code comfyui-<gpu>.log}
   * @param logMaxBytes  that file rolls over at this size (checked by the keeper every few seconds)
   * @param logKeep      rolled files kept ({@code .1} the newest): its output takes about {@code (logKeep + 1) *
   *                     logMaxBytes}, plus what ComfyUI prints between two checks
   */
  public ComfyProcess(String gpuName, int gpuIndex, URI url, String template, Path logDir, long logMaxBytes, int logKeep) {
    this.gpuName = gpuName;
    int port = url.getPort() < 0 ? 80 : url.getPort();
    String filled = template.replace("{port}", String.valueOf(port)).replace("{gpu}", String.valueOf(gpuIndex))
        .replace("{url}", url.toString());
    this.command = split(filled);
    this.logFile = logDir.resolve("comfyui-" + gpuName + ".log");
    this.log = new AppendedLog(logFile, logMaxBytes, logKeep);
  }

  /** Splits a command line into words: spaces separate, double or single quotes group. */
  static List<String> split(String line) {
    List<String> words = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    char quote = 0;
    boolean inWord = false;
    for (char c : line.toCharArray()) {
      if (quote != 0) {
        if (c == quote) {
          quote = 0;
        } else {
          cur.append(c);
        }
      } else if (c == '"' || c == '\'') {
        quote = c;
        inWord = true;
      } else if (Character.isWhitespace(c)) {
        if (inWord) {
          words.add(cur.toString());
          cur.setLength(0);
          inWord = false;
        }
      } else {
        cur.append(c);
        inWord = true;
      }
    }
    if (inWord) {
      words.add(cur.toString());
    }
    return words;
  }

  public List<String> command() {
    return command;
  }

  public synchronized void start() throws IOException {
    if (closed) {
      throw new IOException("not started: the worker is stopping");
    }
    Files.createDirectories(logFile.toAbsolutePath().getParent());
    // Appended to directly, not through a pipe of ours: a ComfyUI whose worker was killed keeps a place to print.
    // rollLog() keeps the file within its size.
    try {
      rollLog();
    } catch (IOException e) {
      LOG.warn("{}: cannot roll {} over ({}); ComfyUI goes on appending to it", gpuName, logFile, e.getMessage());
    }
    Process started = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile())).start();
    process = started;
    starts++;
    started.onExit().thenRun(this::exited); // one hook per process, whoever listens
    LOG.info("{}: started ComfyUI (pid {}, start #{}): {} (output in {})", gpuName, process.pid(), starts, String.join(" ", command), logFile);
  }

  public boolean alive() {
    Process p = process;
    return p != null && p.isAlive();
  }

  public long pid() {
    Process p = process;
    return p == null ? -1 : p.pid();
  }

  public int starts() {
    return starts;
  }

  /**
   * Runs {@code listener} (on a JDK thread) whenever a process this object started ends, until it is removed; and
   * at once, on the calling thread, when a process was started and has ended already (nobody may have heard it). A
   * process that ends while the listener is being added may be told to it twice.
   */
  public void addExitListener(Runnable listener) {
    exitListeners.add(listener);
    Process p = process;
    if (p != null && !p.isAlive()) {
      listener.run();
    }
  }

  /** Stops telling {@code listener} (a keeper that stops; its successor adds its own). */
  public void removeExitListener(Runnable listener) {
    exitListeners.remove(listener);
  }

  private void exited() {
    exitListeners.forEach(Runnable::run);
  }

  /**
   * Rolls its output file over once it has reached {@code LOG_FILE_MAX_SIZE} (copied to {@code .1}, then emptied; the
   * process keeps appending). Called at start and regularly by the keeper.
   */
  public void rollLog() throws IOException {
    log.rollIfFull();
  }

  /** Stops it for good: killed with everything it started, and {@link #start()} refuses from now on (worker stop). */
  public synchronized void close() {
    closed = true;
    killTree();
  }

  /** Kills the process and everything it started; waits up to 10 s. */
  public synchronized void killTree() {
    Process p = process;
    if (p == null || !p.isAlive()) {
      return;
    }
    List<ProcessHandle> tree = new ArrayList<>(p.descendants().toList());
    tree.forEach(ProcessHandle::destroyForcibly);
    p.destroyForcibly();
    try {
      p.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    LOG.warn("{}: killed ComfyUI (pid {}) and {} child process(es)", gpuName, p.pid(), tree.size());
  }
}
