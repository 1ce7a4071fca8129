package io.qwenedit.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DotEnvTest {
  @Test
  void readsTheFormsPythonDotenvAccepted() {
    Map<String, String> m = DotEnv.parse(List.of(
        "# comment",
        "",
        "REDIS_HOST=redis.local",
        "export REDIS_PORT=6380",
        "COMFYUI_URL=\"http://gpu:8188\"",
        "REDIS_PASSWORD='p#ss word'",
        "WORKER_LOG_LEVEL=DEBUG # trailing comment",
        "EMPTY="), ".env");
    assertEquals("redis.local", m.get("REDIS_HOST"));
    assertEquals("6380", m.get("REDIS_PORT"));
    assertEquals("http://gpu:8188", m.get("COMFYUI_URL"));
    assertEquals("p#ss word", m.get("REDIS_PASSWORD"));
    assertEquals("DEBUG", m.get("WORKER_LOG_LEVEL"));
    assertEquals("", m.get("EMPTY"));
  }

  @Test
  void badLinesAreReportedWithTheirNumber() {
    ConfigException e = assertThrows(ConfigException.class, () -> DotEnv.parse(List.of("OK=1", "this is not a setting"), ".env"));
    assertTrue(e.getMessage().startsWith(".env line 2: expected KEY=value"), e.getMessage());
    ConfigException q = assertThrows(ConfigException.class, () -> DotEnv.parse(List.of("A=\"open"), ".env"));
    assertTrue(q.getMessage().contains("no closing"), q.getMessage());
  }
}
