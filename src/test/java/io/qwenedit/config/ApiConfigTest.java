package io.qwenedit.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ApiConfigTest {
  private static Config config(Map<String, String> env) {
    return Config.from(Settings.layered(List.of(ConfigLoader.builtInDefaults(), env), List.of("built-in config.json", "environment")));
  }

  @Test
  void defaultsFromTheShippedConfigFileAndNoUnknownKeys(@TempDir Path dir) {
    Config c = ConfigLoader.load(dir, Map.of(), null);
    assertEquals(List.of(), c.warnings(), "every key in conf/config.json is read by some setting");
    assertEquals(8080, c.api().port());
    assertEquals("0.0.0.0", c.api().host());
    assertTrue(c.api().open());
    assertEquals(30, c.api().ratePerMinute());
    assertEquals(10, c.api().rateBurst());
    assertEquals(Duration.ofHours(1), c.api().eventsMaxDuration());
    assertEquals(8081, c.health().port());
    assertEquals(Duration.ofSeconds(2), c.health().checkTimeout());
    assertEquals(Duration.ofSeconds(5), c.health().queueMetricsInterval());
  }

  @Test
  void keysAreReadButNeverPrinted() {
    String key = "s3cret-0123456789abcdef";
    Config c = config(Map.of("API_KEYS", key + ", other-key-0123456789", "HTTP_PORT", "9000", "API_RATE_LIMIT", "120"));
    assertEquals(List.of(key, "other-key-0123456789"), c.api().keys());
    assertFalse(c.api().open());
    assertEquals(9000, c.api().port());
    assertEquals(120, c.api().ratePerMinute());
    assertFalse(c.api().toString().contains(key), c.api().toString());
    assertFalse(c.toString().contains(key), "nor through the whole configuration");
  }

  @Test
  void badValuesNameTheSettingAndNeverEchoAKey() {
    ConfigException shortKey = assertThrows(ConfigException.class, () -> config(Map.of("API_KEYS", "tooshort")));
    assertTrue(shortKey.getMessage().contains("API_KEYS"), shortKey.getMessage());
    assertFalse(shortKey.getMessage().contains("tooshort"), shortKey.getMessage());
    ConfigException port = assertThrows(ConfigException.class, () -> config(Map.of("HEALTH_PORT", "http")));
    assertTrue(port.getMessage().contains("HEALTH_PORT") && port.getMessage().contains("1 to 65535"), port.getMessage());
    ConfigException limit = assertThrows(ConfigException.class, () -> config(Map.of("HEALTH_CHECK_TIMEOUT", "0")));
    assertTrue(limit.getMessage().contains("HEALTH_CHECK_TIMEOUT"), limit.getMessage());
  }
}
