package io.qwenedit.doctor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Comparing a workflow with /object_info, and the Redis verdicts, without a server. */
class WorkflowModelsTest {
  private static JsonObject node(String cls, JsonObject inputs) {
    return new JsonObject().put("class_type", cls).put("inputs", inputs);
  }

  private static JsonObject classic(String input, String... files) {
    return new JsonObject().put("input", new JsonObject().put("required", new JsonObject()
        .put(input, new JsonArray().add(new JsonArray(List.of((Object[]) files))).add(new JsonObject()))));
  }

  @Test
  void missingModelsMissingNodeTypesAndBothComboFormatsAreFound() {
    JsonObject graph = new JsonObject()
        .put("1", node("UNETLoader", new JsonObject().put("unet_name", "qwen_image_edit_fp8_e4m3fn.safetensors").put("weight_dtype", "default")))
        .put("2", node("VAELoader", new JsonObject().put("vae_name", "qwen_image_vae.safetensors")))
        .put("3", node("LoadImage", new JsonObject().put("image", "example.png")))
        .put("4", node("KSampler", new JsonObject().put("sampler_name", "euler").put("model", new JsonArray().add("1").add(0)).put("steps", 20)))
        .put("5", node("FancyCustomNode", new JsonObject()));
    Map<String, JsonObject> info = new HashMap<>();
    info.put("UNETLoader", classic("unet_name", "other.safetensors"));
    // newer ComfyUI: ["COMBO", {"options": [...]}]
    info.put("VAELoader", new JsonObject().put("input", new JsonObject().put("required", new JsonObject()
        .put("vae_name", new JsonArray().add("COMBO").add(new JsonObject().put("options", new JsonArray().add("qwen_image_vae.safetensors")))))));
    info.put("LoadImage", classic("image", "a.png"));
    info.put("KSampler", classic("sampler_name", "euler", "dpmpp_2m"));
    info.put("FancyCustomNode", null);

    List<WorkflowModels.Gap> gaps = WorkflowModels.compare(graph, Set.of("3/image"), info);
    assertEquals(2, gaps.size(), gaps.toString());
    WorkflowModels.Gap model = gaps.get(0);
    assertTrue(model.modelFile());
    assertEquals("model file qwen_image_edit_fp8_e4m3fn.safetensors (node 1 UNETLoader, input unet_name) is not there; it offers other.safetensors",
        model.describe());
    assertTrue(model.fix().contains("models/diffusion_models/"), model.fix());
    WorkflowModels.Gap custom = gaps.get(1);
    assertTrue(custom.missingNodeType());
    assertEquals("node type FancyCustomNode (node 5) is not installed", custom.describe());
    assertEquals(Set.of("UNETLoader", "VAELoader", "LoadImage", "KSampler", "FancyCustomNode"), WorkflowModels.classes(graph));

    info.put("KSampler", classic("sampler_name", "dpmpp_2m"));
    WorkflowModels.Gap option = WorkflowModels.compare(graph, Set.of("3/image"), info).get(1);
    assertTrue(!option.modelFile() && option.describe().startsWith("option \"euler\" (node 4 KSampler"), option.describe());
  }

  @Test
  void redisVerdictsFollowVersionPersistenceAndPolicy() {
    List<Finding> old = Doctor.redisFindings("r", Map.of("redis_version", "4.0.9", "aof_enabled", "1", "maxmemory_policy", "noeviction"));
    assertEquals(Finding.Level.FAIL, old.get(0).level());
    List<Finding> five = Doctor.redisFindings("r", Map.of("redis_version", "5.0.14", "aof_enabled", "1", "maxmemory_policy", "noeviction"));
    assertEquals(Finding.Level.WARN, five.get(0).level());
    List<Finding> volatileLru = Doctor.redisFindings("r", Map.of("redis_version", "7.2.4", "aof_enabled", "1",
        "maxmemory_policy", "volatile-lru", "maxmemory", "0"));
    Finding policy = volatileLru.get(2);
    assertEquals(Finding.Level.WARN, policy.level());
    assertTrue(policy.summary().contains("finished jobs and their results") && policy.summary().contains("as soon as a maxmemory limit is set"),
        policy.summary());
    assertEquals(Map.of("redis_version", "7.0.15", "aof_enabled", "0"), Doctor.parseInfo("# Server\r\nredis_version:7.0.15\r\n# Persistence\r\naof_enabled:0\r\n"));
  }
}
