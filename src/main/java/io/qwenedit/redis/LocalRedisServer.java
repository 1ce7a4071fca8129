package io.qwenedit.redis;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A {@code redis-server} child process on a loopback port, for tests, benchmarks and the demo. Can be stopped,
 * killed and started again on the same port and data directory (to test a Redis restart). Every instance is
 * destroyed by a shutdown hook if its owner forgets.
 */
public final class LocalRedisServer implements AutoCloseable {
  private static final Set<LocalRedisServer> LIVE = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(LocalRedisServer::destroyQuietly), "redis-cleanup"));
  }

  private final Path binary;
  private final int port;
  private final Path dir;
  private final boolean ownsDir;
  private final List<String> extraArgs;
  private Process process;

  private LocalRedisServer(Path binary, int port, Path dir, boolean ownsDir, List<String> extraArgs) {
    this.binary = binary;
    this.port = port;
    this.dir = dir;
    this.ownsDir = ownsDir;
    this.extraArgs = extraArgs;
  }

  /** Starts a throw-away server (no persistence) on a free port. */
  public static LocalRedisServer start() {
    return start(false);
  }

  /** @param appendOnly keep data across {@link #restart()} with AOF fsync'ed on every write */
  public static LocalRedisServer start(boolean appendOnly) {
    List<String> args = appendOnly ? List.of("--appendonly", "yes", "--appendfsync", "always") : List.of("--appendonly", "no");
    return start(freePort(), args);
  }

  public static LocalRedisServer start(int port, List<String> extraArgs) {
    Path bin = findBinary();
    if (bin == null) {
      throw new IllegalStateException("No redis-server found and none bundled for " + System.getProperty("os.name") + "/"
          + System.getProperty("os.arch") + ": install one (Debian: apt-get install -y redis-server) or point "
          + "REDIS_SERVER_BIN at one");
    }
    return start(bin, port, extraArgs);
  }

  /** Starts {@code binary} (a redis-server executable) on {@code port} with a fresh data directory. */
  public static LocalRedisServer start(Path binary, int port, List<String> extraArgs) {
    try {
      Path dir = Files.createTempDirectory("qwenedit-redis-");
      LocalRedisServer s = new LocalRedisServer(binary, port, dir, true, extraArgs);
      s.launch();
      return s;
    } catch (IOException e) {
      throw new IllegalStateException("cannot create a data directory for redis-server", e);
    }
  }

  /**
   * redis-server from REDIS_SERVER_BIN, the PATH, or the usual places; else the binary bundled in the jar (the
   * embedded-redis artifact: Redis 6.2 for Linux and macOS, 5.0 for Windows); null if there is none for this platform.
   */
  public static Path findBinary() {
    Path installed = installedBinary();
    return installed != null ? installed : bundledBinary();
  }

  /** A redis-server installed on this machine (REDIS_SERVER_BIN, the PATH, /usr/bin, /usr/local/bin), or null. */
  public static Path installedBinary() {
    String env = System.getenv("REDIS_SERVER_BIN");
    if (env != null && !env.isBlank() && Files.isExecutable(Path.of(env))) {
      return Path.of(env);
    }
    String path = System.getenv("PATH");
    List<Path> candidates = new ArrayList<>();
    if (path != null) {
      for (String p : path.split(java.io.File.pathSeparator)) {
        if (!p.isBlank()) {
          candidates.add(Path.of(p, "redis-server"));
          candidates.add(Path.of(p, "redis-server.exe"));
        }
      }
    }
    candidates.add(Path.of("/usr/bin/redis-server"));
    candidates.add(Path.of("/usr/local/bin/redis-server"));
    return candidates.stream().filter(p -> Files.isRegularFile(p) && Files.isExecutable(p)).findFirst().orElse(null);
  }

  /**
   * The redis-server bundled for this platform, copied once out of the jar into the temp directory (reused while
   * its size matches); null when none is bundled for this OS and architecture.
   */
  public static synchronized Path bundledBinary() {
    String resource = bundledResource(System.getProperty("os.name", ""), System.getProperty("os.arch", ""));
    if (resource == null) {
      return null;
    }
    try (InputStream in = LocalRedisServer.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        return null;
      }
      byte[] bytes = in.readAllBytes();
      Path dir = Path.of(System.getProperty("java.io.tmpdir"), "qwenedit-redis-bin");
      Files.createDirectories(dir);
      Path target = dir.resolve(resource);
      if (Files.isRegularFile(target) && Files.size(target) == bytes.length && Files.isExecutable(target)) {
        return target;
      }
      // Written aside and moved into place, so two processes extracting at once never run a half-written file.
      Path tmp = Files.createTempFile(dir, resource, ".part");
      Files.write(tmp, bytes);
      tmp.toFile().setExecutable(true, false);
      Files.move(tmp, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      return target;
    } catch (IOException e) {
      throw new IllegalStateException("cannot copy the bundled redis-server out of the jar: " + e.getMessage(), e);
    }
  }

  /** Name of the bundled binary for an OS and architecture (as Java reports them), or null. */
  static String bundledResource(String osName, String osArch) {
    String os = osName.toLowerCase(java.util.Locale.ROOT);
    String arch = osArch.toLowerCase(java.util.Locale.ROOT);
    boolean x64 = arch.equals("amd64") || arch.equals("x86_64");
    boolean arm64 = arch.equals("aarch64") || arch.equals("arm64");
    if (os.contains("win")) {
      return x64 ? "redis-server-5.0.14.1-windows-amd64.exe" : null;
    }
    if (os.contains("mac") || os.contains("darwin")) {
      return x64 ? "redis-server-6.2.6-v5-darwin-amd64" : arm64 ? "redis-server-6.2.6-v5-darwin-arm64" : null;
    }
    if (os.contains("linux")) {
      if (x64) {
        return "redis-server-6.2.6-v5-linux-amd64";
      }
      if (arm64) {
        return "redis-server-6.2.7-linux-arm64";
      }
      return arch.matches("i[3-6]86|x86") ? "redis-server-6.2.7-linux-386" : null;
    }
    return null;
  }

  /** True when nothing listens on this loopback port (it can be bound now). */
  public static boolean portFree(int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  public static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException("no free port", e);
    }
  }

  private synchronized void launch() {
    List<String> cmd = new ArrayList<>(List.of(binary.toString(), "--port", String.valueOf(port), "--bind", "127.0.0.1",
        "--dir", dir.toString(), "--save", "", "--daemonize", "no", "--protected-mode", "no", "--logfile", "redis.log"));
    cmd.addAll(extraArgs);
    try {
      process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("stdout.log").toFile()).start();
    } catch (IOException e) {
      throw new IllegalStateException("cannot start " + binary + ": " + e.getMessage(), e);
    }
    LIVE.add(this);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("redis-server exited at start (code " + process.exitValue() + "); see " + dir);
      }
      if (ping()) {
        return;
      }
      sleep(20);
    }
    destroyQuietly();
    throw new IllegalStateException("redis-server did not answer PING within 15 s on port " + port);
  }

  /** True when the server answers PING with PONG on a fresh connection. */
  public boolean ping() {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 500);
      s.setSoTimeout(1000);
      OutputStream out = s.getOutputStream();
      out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      byte[] buf = new byte[7];
      int n = in.readNBytes(buf, 0, 7);
      String reply = new String(buf, 0, Math.max(0, n), StandardCharsets.US_ASCII);
      // a server with a password answers NOAUTH: it is up all the same
      return reply.startsWith("+PONG") || reply.startsWith("-NOAUTH");
    } catch (IOException e) {
      return false;
    }
  }

  public int port() {
    return port;
  }

  public String url() {
    return "redis://127.0.0.1:" + port + "/0";
  }

  public Path dataDir() {
    return dir;
  }

  /** The redis-server executable this instance runs. */
  public Path binary() {
    return binary;
  }

  public synchronized boolean isRunning() {
    return process != null && process.isAlive();
  }

  /** SIGTERM and wait (Redis writes its AOF on the way out). */
  public synchronized void stop() {
    if (process != null && process.isAlive()) {
      process.destroy();
      try {
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
          process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** SIGKILL: the server vanishes at once. */
  public synchronized void kill() {
    if (process != null && process.isAlive()) {
      process.destroyForcibly();
      try {
        process.waitFor(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Starts the server again on the same port and data directory. */
  public synchronized void restart() {
    stop();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      try {
        launch();
        return;
      } catch (IllegalStateException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        sleep(100); // the port may still be in TIME_WAIT or held by the exiting process
      }
    }
  }

  private synchronized void destroyQuietly() {
    if (process != null) {
      process.destroyForcibly();
    }
  }

  @Override
  public synchronized void close() {
    stop();
    LIVE.remove(this);
    if (ownsDir) {
      try (Stream<Path> walk = Files.walk(dir)) {
        walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException ignored) {
        // a temp directory left behind is harmless
      }
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
