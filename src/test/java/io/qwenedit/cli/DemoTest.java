package io.qwenedit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qwenedit.demo.DemoSamples;
import io.qwenedit.demo.DemoSamples.Sample;
import io.qwenedit.emulator.EmulatorImages;
import io.qwenedit.redis.LocalRedisServer;
import io.qwenedit.testing.ChildProcess;
import io.qwenedit.testing.RedisServerExtension;
import io.qwenedit.telegram.TelegramStub;
import io.vertx.core.buffer.Buffer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code demo} as a child JVM, as the README runs it: every sample edited, results written, Ctrl+C/SIGTERM cleans up. */
class DemoTest {
  @RegisterExtension
  static final RedisServerExtension REDIS = new RedisServerExtension();

  @TempDir
  Path dir;

  @Test
  void demoOnceEditsEverySampleIntoTheResultsFolderAndExitsZero() throws Exception {
    int healthPort = LocalRedisServer.freePort();
    try (ServerSocket taken = new ServerSocket(0, 10, InetAddress.getLoopbackAddress());
         ChildProcess demo = ChildProcess.start(Map.of("REDIS_URL", REDIS.url(), "HTTP_PORT", String.valueOf(taken.getLocalPort()),
             "HEALTH_PORT", String.valueOf(healthPort)), dir, "demo", "--once", "--step-time", "0.02", "--results", "out")) {
      Integer code = demo.waitFor(120_000);
      String log = demo.log();
      assertEquals(Integer.valueOf(0), code, log);
      assertTrue(log.contains("Port " + taken.getLocalPort() + " (HTTP_PORT) is taken: the demo uses"), log);
      assertTrue(log.contains("using the Redis already answering at 127.0.0.1:" + REDIS.port()), log);
      assertTrue(log.contains("Health     http://127.0.0.1:" + healthPort + "/health/ready"), log);
      assertTrue(log.contains("status --watch"), log);
      assertTrue(log.contains("running on gpu0") && log.contains("running on gpu1"), "both emulated GPUs worked:\n" + log);
      List<Sample> samples = DemoSamples.load();
      assertTrue(log.contains(samples.size() + " of " + samples.size() + " sample edits succeeded"), log);
      for (Sample s : samples) {
        Path edited = dir.resolve("out").resolve(s.name() + "-edited.png");
        assertTrue(Files.exists(edited), edited + "\n" + log);
        assertTrue(EmulatorImages.matches(s.image(), Buffer.buffer(Files.readAllBytes(edited)), s.prompt()),
            s.name() + ": the result is the edit of that sample with its instruction");
      }
      // a Redis that was already running keeps the demo's keys apart from a real deployment's
      assertEquals(":1", REDIS.command("EXISTS qwenedit:demo:{q}:seq"));
      assertEquals(":0", REDIS.command("EXISTS qwenedit:{q}:seq"));
      // the role's log file names each job it logs about
      String file = Files.readString(dir.resolve("logs/demo.log"));
      Matcher queued = Pattern.compile("queued as job ([0-9a-z]{13})").matcher(log);
      int ids = 0;
      while (queued.find()) {
        ids++;
        assertTrue(file.contains("job " + queued.group(1) + " claimed for gpu"), "logs/demo.log follows job " + queued.group(1));
      }
      assertEquals(samples.size(), ids);
    }
  }

  @Test
  void withoutARedisTheDemoStartsItsOwnRunsTheBotWithATokenAndStopsOnSigterm() throws Exception {
    int redisPort = LocalRedisServer.freePort();
    try (TelegramStub telegram = TelegramStub.start();
         ChildProcess demo = ChildProcess.start(Map.of("REDIS_HOST", "127.0.0.1", "REDIS_PORT", String.valueOf(redisPort),
             "HTTP_PORT", String.valueOf(LocalRedisServer.freePort()), "HEALTH_PORT", String.valueOf(LocalRedisServer.freePort()),
             "TELEGRAM_BOT_TOKEN", TelegramStub.TOKEN, "TELEGRAM_API_URL", telegram.apiUrl().toString()),
             dir, "demo", "--step-time", "0.02")) {
      demo.awaitLog("The demo keeps running", 120_000);
      String log = demo.log();
      assertTrue(log.contains("Redis      started ") && log.contains(" on 127.0.0.1:" + redisPort), log);
      assertTrue(log.contains("sample edits succeeded"), log);
      assertTrue(log.contains("the Telegram bot runs too"), log);
      long deadline0 = System.currentTimeMillis() + 20_000;
      while (telegram.count("getUpdates") == 0 && System.currentTimeMillis() < deadline0) {
        Thread.sleep(50);
      }
      assertTrue(telegram.count("getUpdates") > 0, "the bot polls Telegram");
      assertTrue(Files.exists(dir.resolve("demo-results/demo-config.json")), "the default results folder, with a config for the CLI");
      assertTrue(!LocalRedisServer.portFree(redisPort), "its Redis runs");
      demo.terminate();
      assertEquals(Integer.valueOf(0), demo.waitFor(60_000), demo.log());
      long deadline = System.currentTimeMillis() + 10_000;
      while (!LocalRedisServer.portFree(redisPort) && System.currentTimeMillis() < deadline) {
        Thread.sleep(50);
      }
      assertTrue(LocalRedisServer.portFree(redisPort), "the Redis the demo started is gone with it");
    }
  }
}
