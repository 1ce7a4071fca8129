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

  @Test
  void comfyDirectoriesAndTheAgeTheirFilesAreKept() {
    ComfyConfig d = ConfigLoader.load(dir, Map.of(), null).comfy();
    assertEquals(java.util.List.of(), d.dirs(), "not visible from here unless said");
    assertEquals(Duration.ofHours(1), d.filesMaxAge());
    ComfyConfig c = ConfigLoader.load(dir, Map.of("COMFYUI_DIR", "/srv/comfy-a, /srv/comfy-b", "COMFYUI_FILES_MAX_AGE", "2h"),
        null).comfy();
    assertEquals(java.util.List.of(Path.of("/srv/comfy-a"), Path.of("/srv/comfy-b")), c.dirs());
    assertEquals(Duration.ofHours(2), c.filesMaxAge());
    // a file is in use while its prompt waits (up to COMFYUI_QUEUE_TIMEOUT) and runs (up to COMFYUI_TIMEOUT)
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(dir, Map.of("COMFYUI_DIR", "/srv/comfy",
        "COMFYUI_FILES_MAX_AGE", "20m", "COMFYUI_QUEUE_TIMEOUT", "10m", "COMFYUI_TIMEOUT", "5m"), null));
    assertTrue(e.getMessage().startsWith("Invalid setting COMFYUI_FILES_MAX_AGE=20m (from environment): with COMFYUI_DIR set it"
        + " must be longer than COMFYUI_QUEUE_TIMEOUT + COMFYUI_TIMEOUT + 10 min (1500 s)"), e.getMessage());
    // without COMFYUI_DIR nothing is removed: long prompt limits stay valid in every role
    assertEquals(Duration.ofHours(6), ConfigLoader.load(dir, Map.of("COMFYUI_TIMEOUT", "6h"), null).comfy().timeout());
  }
}
