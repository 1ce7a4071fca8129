package io.qwenedit.comfy.workflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qwenedit.config.ConfigException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorkflowCatalogTest {
  @TempDir
  Path dir;

  private static final String MAPPING = """
      {"image": {"node": "78", "input": "image"}, "prompt": {"node": "76", "input": "prompt"},
       "seed": {"node": "3", "input": "seed"}, "steps": {"node": "3", "input": "steps"},
       "filename_prefix": {"node": "60", "input": "filename_prefix"}, "output": {"node": "60"}}
      """;

  private static String builtInGraph() throws IOException {
    return Files.readString(Path.of("conf/workflows/qwen-image-edit.json"));
  }

  private void write(String name, String text) throws IOException {
    Files.writeString(dir.resolve(name), text);
  }

  private String loadError() {
    ConfigException e = assertThrows(ConfigException.class, () -> WorkflowCatalog.load(dir, "qwen-image-edit"));
    assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
    return e.getMessage();
  }

  @Test
  void theBuiltInWorkflowsLoadWithTheirMappings() {
    WorkflowCatalog c = WorkflowCatalog.builtIn("qwen-image-edit");
    assertEquals(java.util.List.of("qwen-image-edit", "qwen-image-edit-lightning"), c.names());
    Workflow base = c.defaultWorkflow();
    assertEquals(20, base.defaultSteps());
    assertEquals("60", base.outputNode());
    Workflow lightning = c.get("qwen-image-edit-lightning");
    assertEquals(4, lightning.defaultSteps());
    assertEquals("Qwen-Image-Edit-Lightning-4steps-V1.0-bf16.safetensors",
        lightning.template().getJsonObject("89").getJsonObject("inputs").getString("lora_name"));
  }

  @Test
  void fillPutsEachJobValueWhereTheMappingSaysAndLeavesTheTemplateAlone() {
    Workflow w = WorkflowCatalog.builtIn("qwen-image-edit").defaultWorkflow();
    JsonObject g = w.fill("qwenedit/job-1.png", "make the sky purple", 12345L, 8, "qwenedit/job-1");
    assertEquals("qwenedit/job-1.png", g.getJsonObject("78").getJsonObject("inputs").getString("image"));
    assertEquals("make the sky purple", g.getJsonObject("76").getJsonObject("inputs").getString("prompt"));
    assertEquals("", g.getJsonObject("77").getJsonObject("inputs").getString("prompt"), "the negative prompt stays empty");
    assertEquals(12345L, g.getJsonObject("3").getJsonObject("inputs").getLong("seed"));
    assertEquals(8, g.getJsonObject("3").getJsonObject("inputs").getInteger("steps"));
    assertEquals("qwenedit/job-1", g.getJsonObject("60").getJsonObject("inputs").getString("filename_prefix"));
    assertEquals(1, g.getJsonObject("93").getJsonObject("inputs").getInteger("resolution_steps"));
    assertEquals(20, w.fill("a", "b", 1, null, "c").getJsonObject("3").getJsonObject("inputs").getInteger("steps"), "null steps: the workflow's");
    assertEquals("example.png", w.template().getJsonObject("78").getJsonObject("inputs").getString("image"), "template untouched");
  }

  @Test
  void resolutionStepsIsAddedWhenAnOperatorsWorkflowLacksIt() throws IOException {
    JsonObject g = new JsonObject(builtInGraph());
    g.getJsonObject("93").getJsonObject("inputs").remove("resolution_steps");
    write("mine.json", g.encode());
    write("mine.mapping.json", MAPPING);
    Workflow w = WorkflowCatalog.load(dir, "mine").get("mine");
    assertEquals(1, w.fill("a", "b", 1, null, "c").getJsonObject("93").getJsonObject("inputs").getInteger("resolution_steps"));
  }

  @Test
  void anOperatorAddsAWorkflowByDroppingTwoFilesAndCanMapByTitle() throws IOException {
    JsonObject g = new JsonObject(builtInGraph());
    g.getJsonObject("76").getJsonObject("_meta").put("title", "Edit instruction");
    write("my-edit.json", g.encode());
    write("my-edit.mapping.json", MAPPING.replace("{\"node\": \"76\", \"input\": \"prompt\"}", "{\"title\": \"Edit instruction\", \"input\": \"prompt\"}"));
    WorkflowCatalog c = WorkflowCatalog.load(dir, "my-edit");
    assertEquals(java.util.List.of("my-edit", "qwen-image-edit", "qwen-image-edit-lightning"), c.names(), "built-ins stay available");
    assertEquals("76", c.get("my-edit").target("prompt").node());
    assertEquals("x", c.get("my-edit").fill("a", "x", 1, null, "p").getJsonObject("76").getJsonObject("inputs").getString("prompt"));
  }

  @Test
  void aWorkflowInTheDirectoryReplacesTheBuiltInOfTheSameName() throws IOException {
    JsonObject g = new JsonObject(builtInGraph());
    g.getJsonObject("3").getJsonObject("inputs").put("steps", 30);
    write("qwen-image-edit.json", g.encode());
    write("qwen-image-edit.mapping.json", MAPPING);
    assertEquals(30, WorkflowCatalog.load(dir, "qwen-image-edit").defaultWorkflow().defaultSteps());
  }

  @Test
  void aTemplateThatDoesNotParseStopsStartUpNamingTheFile() throws IOException {
    write("broken.json", "{\"3\": {\"class_type\": \"KSampler\", ");
    write("broken.mapping.json", MAPPING);
    String m = loadError();
    assertTrue(m.contains("broken.json is not valid JSON"), m);
  }

  @Test
  void aMappingPointingAtAMissingNodeStopsStartUpNamingFileAndNode() throws IOException {
    write("bad.json", builtInGraph());
    write("bad.mapping.json", MAPPING.replace("\"node\": \"78\"", "\"node\": \"99\""));
    String m = loadError();
    assertTrue(m.contains("bad.mapping.json"), m);
    assertTrue(m.contains("node \"99\""), m);
    assertTrue(m.contains("does not exist in"), m);
  }

  @Test
  void aMappingPointingAtAMissingInputOrALinkStopsStartUp() throws IOException {
    write("bad.json", builtInGraph());
    write("bad.mapping.json", MAPPING.replace("{\"node\": \"76\", \"input\": \"prompt\"}", "{\"node\": \"76\", \"input\": \"text\"}"));
    String m = loadError();
    assertTrue(m.contains("input \"text\" of node \"76\" (TextEncodeQwenImageEdit)") && m.contains("no such input"), m);

    write("bad.mapping.json", MAPPING.replace("{\"node\": \"76\", \"input\": \"prompt\"}", "{\"node\": \"76\", \"input\": \"clip\"}"));
    assertTrue(loadError().contains("is a link to another node"));
  }

  @Test
  void missingMappingsTitlesAndClassTypesAreNamed() throws IOException {
    write("lonely.json", builtInGraph());
    assertTrue(loadError().contains("lonely.mapping.json must say"));
    Files.delete(dir.resolve("lonely.json"));

    write("orphan.mapping.json", MAPPING);
    assertTrue(loadError().contains("orphan.json is missing"));
    Files.delete(dir.resolve("orphan.mapping.json"));

    write("t.json", builtInGraph());
    write("t.mapping.json", MAPPING.replace("{\"node\": \"76\", \"input\": \"prompt\"}", "{\"title\": \"Nope\", \"input\": \"prompt\"}"));
    assertTrue(loadError().contains("the node titled \"Nope\", which does not exist"));
    write("t.mapping.json", MAPPING.replace("{\"node\": \"76\", \"input\": \"prompt\"}", "{\"title\": \"Load VAE\", \"input\": \"vae_name\"}")
        .replace("\"image\": {\"node\": \"78\", \"input\": \"image\"}", "\"image\": {\"node\": \"78\"}"));
    assertTrue(loadError().contains("\"image\" needs \"input\""));
    Files.delete(dir.resolve("t.json"));
    Files.delete(dir.resolve("t.mapping.json"));

    write("ui.json", "{\"nodes\": [1, 2], \"links\": []}");
    write("ui.mapping.json", MAPPING);
    assertTrue(loadError().contains("API-format"), "a UI-format export is recognised");
  }

  @Test
  void anUnknownDefaultWorkflowNamesTheSettingAndTheKnownOnes() {
    ConfigException e = assertThrows(ConfigException.class, () -> WorkflowCatalog.load(dir.resolve("nowhere"), "flux"));
    assertTrue(e.getMessage().startsWith("Invalid setting COMFYUI_WORKFLOW=\"flux\""), e.getMessage());
    assertTrue(e.getMessage().contains("qwen-image-edit-lightning"), e.getMessage());
    assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
  }

  @Test
  void aWorkflowWithoutSeedOrStepsMappingIsAccepted() throws IOException {
    write("plain.json", builtInGraph());
    write("plain.mapping.json", """
        {"image": {"node": "78", "input": "image"}, "prompt": {"node": "76", "input": "prompt"},
         "filename_prefix": {"node": "60", "input": "filename_prefix"}}""");
    Workflow w = WorkflowCatalog.load(dir, "plain").get("plain");
    assertNull(w.defaultSteps());
    assertEquals(0L, w.fill("a", "b", 999, 7, "p").getJsonObject("3").getJsonObject("inputs").getLong("seed"), "seed not mapped: untouched");
  }
}
