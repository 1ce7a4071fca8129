package io.qwenedit.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ComfyConfigTest {
  @TempDir
  Path dir;

  @Test
  void defaultsAndOverrides() {
    ComfyConfig d = ConfigLoader.load(dir, Map.of(), null).comfy();
    assertEquals("qwen-image-edit", d.workflow());
    assertEquals(Path.of("conf/workflows"), d.workflowsDir());
    assertEquals(d.timeout(), d.wedgeTimeout(), "the wedge threshold follows COMFYUI_TIMEOUT unless set");
    assertEquals(Duration.ofMinutes(10), d.queueTimeout());
    assertEquals(4, d.poolSize());
    ComfyConfig c = ConfigLoader.load(dir, Map.of("COMFYUI_WORKFLOW", "qwen-image-edit-lightning", "COMFYUI_TIMEOUT", "90",
        "COMFYUI_WORKFLOWS_DIR", "/srv/workflows", "COMFYUI_POOL_SIZE", "8", "COMFYUI_REQUEST_TIMEOUT", "5s"), null).comfy();
    assertEquals("qwen-image-edit-lightning", c.workflow());
    assertEquals(Duration.ofSeconds(90), c.wedgeTimeout());
    assertEquals(Path.of("/srv/workflows"), c.workflowsDir());
    assertEquals(8, c.poolSize());
    assertEquals(Duration.ofSeconds(5), c.requestTimeout());
  }

  @Test
  void badValuesNameTheSetting() {
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(dir, Map.of("COMFYUI_WORKFLOW", "../etc/passwd"), null));
    assertTrue(e.getMessage().startsWith("Invalid setting COMFYUI_WORKFLOW=\"../etc/passwd\" (from environment)"), e.getMessage());
    e = assertThrows(ConfigException.class, () -> ConfigLoader.load(dir, Map.of("COMFYUI_POOL_SIZE", "0"), null));
    assertTrue(e.getMessage().contains("COMFYUI_POOL_SIZE"), e.getMessage());
  }
}
