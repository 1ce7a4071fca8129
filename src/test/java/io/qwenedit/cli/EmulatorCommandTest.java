package io.qwenedit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qwenedit.comfy.ComfyClient;
import io.qwenedit.comfy.ComfyClientOptions;
import io.qwenedit.comfy.ComfyHealth;
import io.qwenedit.comfy.DispatchRequest;
import io.qwenedit.comfy.DispatchResult;
import io.qwenedit.comfy.workflow.WorkflowCatalog;
import io.qwenedit.emulator.EmulatorImages;
import io.qwenedit.testing.Await;
import io.qwenedit.testing.Images;
import io.qwenedit.testing.TestConfigs;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The emulator as its own process, the way the worker supervises a ComfyUI: started by a command, killed, restarted. */
@ExtendWith(VertxExtension.class)
class EmulatorCommandTest {
  private final List<Process> processes = new ArrayList<>();

  @TempDir
  Path dir;

  @AfterEach
  void killAll() {
    for (Process p : processes) {
      p.destroyForcibly();
      try {
        p.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** Starts {@code Main emulator ...} in a child JVM and waits for its "listening" line. */
  private Process startEmulator(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), "io.qwenedit.cli.Main", "emulator"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    processes.add(p);
    BlockingQueue<String> lines = new ArrayBlockingQueue<>(1000);
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) {
          lines.offer(line);
        }
      } catch (Exception ignored) {
        // process ended
      }
    }, "emulator-output");
    reader.setDaemon(true);
    reader.start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    StringBuilder seen = new StringBuilder();
    while (System.nanoTime() < deadline) {
      String line = lines.poll(200, TimeUnit.MILLISECONDS);
      if (line != null) {
        seen.append(line).append('\n');
        if (line.startsWith("ComfyUI emulator listening on")) {
          return p;
        }
      }
      if (!p.isAlive() && lines.isEmpty()) {
        throw new AssertionError("the emulator exited with " + p.exitValue() + ":\n" + seen);
      }
    }
    throw new AssertionError("the emulator did not start within 30 s:\n" + seen);
  }

  @Test
  void theEmulatorRunsAsAChildProcessServesAJobDiesAndComesBack(Vertx vertx) throws Exception {
    int port = freePort();
    Process p = startEmulator("--port", String.valueOf(port), "--step-time", "0.02", "--steps", "3");
    URI base = URI.create("http://127.0.0.1:" + port);
    WebClient web = WebClient.create(vertx);
    JsonObject stats = Await.await(web.get(port, "127.0.0.1", "/system_stats").send()).bodyAsJsonObject();
    assertEquals("0.38.1", stats.getJsonObject("system").getString("comfyui_version"));

    ComfyClient client = new ComfyClient(vertx, base, ComfyClientOptions.from(TestConfigs.config("redis://127.0.0.1:1/0").comfy(),
        WorkflowCatalog.builtIn("qwen-image-edit")).withRequestTimeout(Duration.ofSeconds(2)).withPollInterval(Duration.ofMillis(200)));
    try {
      Buffer input = Images.png(80, 60);
      DispatchResult r = Await.await(client.dispatch(DispatchRequest.of("job-1", UUID.randomUUID().toString(), input, "job-1.png", "hello"), null),
          Duration.ofSeconds(30));
      assertTrue(EmulatorImages.matches(input, r.image(), "hello"));
      JsonObject emu = Await.await(web.get(port, "127.0.0.1", "/_emulator/stats").send()).bodyAsJsonObject();
      assertEquals(1, emu.getInteger("prompts_succeeded"));

      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      assertEquals(ComfyHealth.State.UNREACHABLE, Await.await(client.probe()).state());

      startEmulator("--port", String.valueOf(port), "--step-time", "0.02");
      Await.until("healthy again", Duration.ofSeconds(10), () -> Await.await(client.probe()).state() == ComfyHealth.State.HEALTHY);
    } finally {
      Await.await(client.close());
      web.close();
    }
  }

  @Test
  void aFaultScriptFileIsReadAndSigtermStopsTheProcess(Vertx vertx) throws Exception {
    java.nio.file.Files.writeString(dir.resolve("faults.json"), "{\"http\": [{\"fault\": \"http_500\", \"endpoint\": \"/system_stats\"}]}");
    int port = freePort();
    Process p = startEmulator("--port", String.valueOf(port), "--faults-file", "faults.json");
    WebClient web = WebClient.create(vertx);
    assertEquals(500, Await.await(web.get(port, "127.0.0.1", "/system_stats").send()).statusCode());
    web.close();
    p.destroy();
    assertTrue(p.waitFor(15, TimeUnit.SECONDS), "SIGTERM ends it");
  }

  private static int run(ByteArrayOutputStream err, String... args) {
    return Main.run(List.of(args), new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), Map.of(), Path.of("."), false);
  }

  @Test
  void badOptionsAreRefusedWithAClearMessage() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    assertEquals(ExitCodes.USAGE, run(err, "emulator", "--step-time", "soon"));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("--step-time of 'emulator' must be a number of seconds"), err.toString());
    err.reset();
    assertEquals(ExitCodes.USAGE, run(err, "emulator", "--faults", "{\"always\": {\"fault\": \"explode\"}}", "--port", "0"));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("Bad fault script"), err.toString());
    err.reset();
    assertEquals(ExitCodes.USAGE, run(err, "emulator", "--faults", "{nope"));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("not a JSON object"), err.toString());
  }
}
