package io.qwenedit.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigTest {
  @TempDir
  Path dir;

  private static Config fromEnv(Map<String, String> env, Path dir) {
    return ConfigLoader.load(dir, env, null);
  }

  @Test
  void shippedConfigJsonHoldsTheSameDefaultsAsTheCode() {
    Config shipped = ConfigLoader.load(Path.of("."), Map.of(), Path.of("conf/config.json"));
    Config code = Config.from(new Settings(Map.of()));
    assertEquals(code.redis(), shipped.redis());
    assertEquals(code.queue(), shipped.queue());
    assertEquals(code.comfy(), shipped.comfy());
    assertEquals(code.worker().gpuLockTimeout(), shipped.worker().gpuLockTimeout());
    assertEquals(code.worker().logLevel(), shipped.worker().logLevel());
    assertEquals(code.worker().shutdownGrace(), shipped.worker().shutdownGrace());
    assertEquals(List.of(), shipped.warnings(), "every key in conf/config.json is read by the code");
  }

  @Test
  void oldSystemsNamesWork() {
    Config c = fromEnv(Map.of("REDIS_HOST", "redis.internal", "REDIS_PORT", "6380", "REDIS_DB", "2",
        "WORKER_POLLING_INTERVAL", "1", "WORKER_GPU_LOCK_TIMEOUT", "45", "WORKER_LOG_LEVEL", "debug",
        "COMFYUI_URL", "http://gpu1:8188", "COMFYUI_TIMEOUT", "120", "COMFYUI_POLL_INTERVAL", "0.5"), dir);
    assertEquals("redis://redis.internal:6380/2", c.redis().connectionString());
    assertEquals(Duration.ofSeconds(1), c.queue().blockTime());
    assertEquals(Duration.ofSeconds(45), c.worker().gpuLockTimeout());
    assertEquals("DEBUG", c.worker().logLevel());
    assertEquals(List.of(java.net.URI.create("http://gpu1:8188")), c.comfy().urls());
    assertEquals(Duration.ofSeconds(120), c.comfy().timeout());
    assertEquals(Duration.ofMillis(500), c.comfy().pollInterval());
  }

  @Test
  void redisUrlWinsAndPasswordIsNeverShown() {
    Config c = fromEnv(Map.of("REDIS_URL", "rediss://cache.example:6390/3", "REDIS_PASSWORD", "s3cr#t", "REDIS_HOST", "ignored"), dir);
    assertEquals("rediss://:s3cr%23t@cache.example:6390/3", c.redis().connectionString());
    assertEquals("cache.example:6390/3", c.redis().displayAddress());
    assertTrue(!c.redis().toString().contains("s3cr"));
    Config plain = fromEnv(Map.of("REDIS_PASSWORD", "pw"), dir);
    assertEquals("redis://:pw@127.0.0.1:6379/0", plain.redis().connectionString());
  }

  @Test
  void environmentWinsOverDotEnvWhichWinsOverConfigJson() throws IOException {
    Files.createDirectories(dir.resolve("conf"));
    Files.writeString(dir.resolve("conf/config.json"), "{\"REDIS_PORT\": 7000, \"REDIS_DB\": 4, \"JOB_MAX_ATTEMPTS\": 7}");
    Files.writeString(dir.resolve(".env"), "REDIS_PORT=7001\nREDIS_DB=5\n");
    Config c = fromEnv(Map.of("REDIS_PORT", "7002"), dir);
    assertEquals("redis://127.0.0.1:7002/5", c.redis().connectionString());
    assertEquals(7, c.queue().maxAttempts());
  }

  @Test
  void badValuesStopStartUpWithOneLineNamingSettingValueAndWhatIsAllowed() {
    assertMessage(Map.of("REDIS_PORT", "abc"), "Invalid setting REDIS_PORT=\"abc\" (from environment): expected a whole number from 1 to 65535");
    assertMessage(Map.of("COMFYUI_TIMEOUT", "-5"), "Invalid setting COMFYUI_TIMEOUT=\"-5\"");
    assertMessage(Map.of("COMFYUI_URL", "ftp://gpu:21"), "expected a URL starting with http://, https://");
    assertMessage(Map.of("REDIS_URL", "mysql://x"), "REDIS_URL");
    assertMessage(Map.of("WORKER_LOG_LEVEL", "LOUD"), "expected one of TRACE, DEBUG, INFO, WARN, ERROR");
    assertMessage(Map.of("WORKER_POLLING_INTERVAL", "0"), "WORKER_POLLING_INTERVAL");
    assertMessage(Map.of("JOB_MAX_ATTEMPTS", "0"), "from 1 to 100");
    assertMessage(Map.of("JOB_RETRY_BASE", "10s", "JOB_RETRY_MAX", "1s"), "JOB_RETRY_MAX");
    assertMessage(Map.of("QWENEDIT_PREFIX", "bad prefix!"), "QWENEDIT_PREFIX");
  }

  private void assertMessage(Map<String, String> env, String expected) {
    ConfigException e = assertThrows(ConfigException.class, () -> fromEnv(env, dir));
    assertTrue(e.getMessage().contains(expected), e.getMessage());
    assertTrue(!e.getMessage().contains("\n"), "one line");
  }

  @Test
  void durationsAcceptUnits() {
    assertEquals(Duration.ofMillis(250), Settings.parseDuration("250ms"));
    assertEquals(Duration.ofSeconds(5), Settings.parseDuration("5"));
    assertEquals(Duration.ofMillis(1500), Settings.parseDuration("1.5s"));
    assertEquals(Duration.ofMinutes(2), Settings.parseDuration("2m"));
    assertEquals(Duration.ofHours(24), Settings.parseDuration("24h"));
  }

  @Test
  void brokenConfigFileIsReportedByName() throws IOException {
    Files.createDirectories(dir.resolve("conf"));
    Files.writeString(dir.resolve("conf/config.json"), "{ \"REDIS_PORT\": ");
    ConfigException e = assertThrows(ConfigException.class, () -> fromEnv(Map.of(), dir));
    assertTrue(e.getMessage().contains("config.json is not valid JSON"), e.getMessage());
  }

  @Test
  void unknownKeysInOurFilesAreWarnedAbout() throws IOException {
    Files.writeString(dir.resolve(".env"), "REDIS_PROT=6380\n");
    Config c = fromEnv(Map.of("SOME_OTHER_PROGRAMS_VAR", "x"), dir);
    assertEquals(List.of("Unknown setting REDIS_PROT (in .env) is ignored"), c.warnings());
  }

  @Test
  void comfyUrlsListOnePerGpu() {
    Config c = fromEnv(Map.of("COMFYUI_URLS", "http://127.0.0.1:8188, http://127.0.0.1:8189"), dir);
    assertEquals(2, c.comfy().urls().size());
  }
}
