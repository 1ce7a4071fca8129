package io.qwenedit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qwenedit.testing.RedisServerExtension;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The long-running commands (worker, api, bot, all) fail to start the same way: one line that says what to change,
 * exit code 2 for a setting that cannot work, and no Vert.x left running behind a command that has returned.
 */
class ServiceStartTest {
  @RegisterExtension
  static final RedisServerExtension REDIS = new RedisServerExtension();

  @TempDir
  Path dir;

  private record Run(int code, String err) {}

  private Run run(Map<String, String> extra, String... args) {
    Map<String, String> env = new HashMap<>(extra);
    env.put("REDIS_URL", REDIS.url());
    env.put("HTTP_HOST", "127.0.0.1");
    env.put("HEALTH_HOST", "127.0.0.1");
    env.put("COMFYUI_URL", "http://127.0.0.1:9"); // nothing answers there; start-up must not need it
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = Main.run(List.of(args), new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), env, dir, false);
    return new Run(code, err.toString(StandardCharsets.UTF_8));
  }

  private static long vertxThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.isAlive() && t.getName().startsWith("vert.x-eventloop-thread")).count();
  }

  /** Event-loop threads end shortly after their Vert.x closed; wait a little for them. */
  private static long vertxThreadsSettled(long before) throws InterruptedException {
    long n = vertxThreads();
    for (int i = 0; i < 50 && n > before; i++) {
      Thread.sleep(100);
      n = vertxThreads();
    }
    return n;
  }

  @Test
  void apiOnAPortInUseSaysWhichSettingToChangeAndLeavesNothingRunning() throws Exception {
    long before = vertxThreads();
    try (ServerSocket busy = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
         ServerSocket free = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      int healthPort = free.getLocalPort();
      free.close();
      Run r = run(Map.of("HTTP_PORT", String.valueOf(busy.getLocalPort()), "HEALTH_PORT", String.valueOf(healthPort)), "api");
      assertEquals(ExitCodes.USAGE, r.code(), r.err());
      assertEquals(1, r.err().strip().lines().count(), r.err());
      assertTrue(r.err().startsWith("Cannot serve the API on 127.0.0.1:" + busy.getLocalPort() + " (HTTP_HOST:HTTP_PORT)"), r.err());
      assertTrue(r.err().contains("Choose a free port with HTTP_PORT."), r.err());
      assertFalse(r.err().contains("Exception"), r.err());
    }
    assertEquals(before, vertxThreadsSettled(before), "the failed start closed its Vert.x");
  }

  @Test
  void theSamePortForApiAndHealthIsRefusedInOneLine() {
    Run r = run(Map.of("HTTP_PORT", "18431", "HEALTH_PORT", "18431"), "api");
    assertEquals(ExitCodes.USAGE, r.code(), r.err());
    assertTrue(r.err().startsWith("HTTP_PORT and HEALTH_PORT are both 18431: they must differ"), r.err());
  }

  @Test
  void workerWhoseHealthPortIsTakenStopsWithExitTwoAndClosesWhatItStarted() throws Exception {
    long before = vertxThreads();
    try (ServerSocket busy = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      Run r = run(Map.of("HEALTH_PORT", String.valueOf(busy.getLocalPort())), "worker");
      assertEquals(ExitCodes.USAGE, r.code(), r.err());
      assertTrue(r.err().startsWith("Cannot serve health checks on 127.0.0.1:" + busy.getLocalPort()
          + " (HEALTH_HOST:HEALTH_PORT)"), r.err());
      assertTrue(r.err().contains("Choose a free port with HEALTH_PORT."), r.err());
    }
    assertEquals(before, vertxThreadsSettled(before), "the failed start closed its Vert.x and the worker's verticles");
  }

  @Test
  void workerWithABrokenWorkflowMappingDoesNotStartAndNamesTheFileAndTheNode() throws Exception {
    long before = vertxThreads();
    Path workflows = Files.createDirectories(dir.resolve("workflows"));
    Path shipped = Path.of("conf/workflows");
    Files.copy(shipped.resolve("qwen-image-edit.json"), workflows.resolve("qwen-image-edit.json"));
    String mapping = Files.readString(shipped.resolve("qwen-image-edit.mapping.json"));
    String broken = mapping.replaceFirst("\"node\": \"\\d+\"", "\"node\": \"999\"");
    assertNotEquals(mapping, broken, "the shipped mapping names nodes by id");
    Files.writeString(workflows.resolve("qwen-image-edit.mapping.json"), broken);

    Run r = run(Map.of("COMFYUI_WORKFLOWS_DIR", workflows.toString(), "HEALTH_PORT", String.valueOf(freePort())), "worker");
    assertEquals(ExitCodes.USAGE, r.code(), r.err());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    assertTrue(r.err().contains("qwen-image-edit.mapping.json") && r.err().contains("node \"999\""), r.err());
    assertEquals(before, vertxThreadsSettled(before), "the failed start closed its Vert.x");
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
