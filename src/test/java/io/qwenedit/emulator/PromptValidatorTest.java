package io.qwenedit.emulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qwenedit.comfy.workflow.WorkflowCatalog;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** ComfyUI's validation rules and error layout, for the classes of our workflows. */
class PromptValidatorTest {
  private static final Map<String, List<String>> MODELS = EmulatorOptions.defaults().models();

  private static JsonObject graph(String workflow) {
    return WorkflowCatalog.builtIn("qwen-image-edit").get(workflow).fill("qwenedit/in.png", "make it red", 1, null, "qwenedit/j");
  }

  private static PromptValidator.Result validate(JsonObject g) {
    return PromptValidator.validate(g, f -> "input".equals(f) ? List.of("qwenedit/in.png") : MODELS.getOrDefault(f, List.of()),
        v -> v.equals("qwenedit/in.png"));
  }

  @Test
  void bothWorkflowsValidate() {
    for (String w : List.of("qwen-image-edit", "qwen-image-edit-lightning")) {
      PromptValidator.Result r = validate(graph(w));
      assertTrue(r.accepted(), w + ": " + r.error());
      assertEquals(List.of("60"), r.goodOutputs());
      assertTrue(r.nodeErrors().isEmpty());
    }
  }

  @Test
  void aMissingModelFileIsValueNotInListOnItsLoaderAndTheTopLevelDetailsStayEmpty() {
    JsonObject g = graph("qwen-image-edit");
    g.getJsonObject("37").getJsonObject("inputs").put("unet_name", "qwen_image_edit_bf16.safetensors");
    PromptValidator.Result r = validate(g);
    assertEquals("prompt_outputs_failed_validation", r.error().getString("type"));
    assertEquals("Prompt outputs failed validation", r.error().getString("message"));
    assertEquals("", r.error().getString("details"), "ComfyUI only lists the output node's own reasons there");
    JsonObject ne = r.nodeErrors().getJsonObject("37");
    assertEquals("UNETLoader", ne.getString("class_type"));
    assertEquals(new JsonArray().add("60"), ne.getJsonArray("dependent_outputs"));
    JsonObject e = ne.getJsonArray("errors").getJsonObject(0);
    assertEquals("value_not_in_list", e.getString("type"));
    assertEquals("Value not in list", e.getString("message"));
    assertEquals("unet_name: 'qwen_image_edit_bf16.safetensors' not in ['qwen_image_edit_fp8_e4m3fn.safetensors', "
        + "'qwen_image_edit_2509_fp8_e4m3fn.safetensors']", e.getString("details"));
    assertEquals("unet_name", e.getJsonObject("extra_info").getString("input_name"));
    assertEquals("qwen_image_edit_bf16.safetensors", e.getJsonObject("extra_info").getString("received_value"));
    assertEquals(1, r.nodeErrors().size(), "downstream nodes are invalid but carry no errors of their own");
  }

  @Test
  void aMissingRequiredInputAndOutOfRangeValuesAreReportedOnTheOutputNodeWithDetails() {
    JsonObject g = graph("qwen-image-edit");
    g.getJsonObject("60").getJsonObject("inputs").remove("filename_prefix");
    PromptValidator.Result r = validate(g);
    assertEquals("Required input is missing: filename_prefix", r.error().getString("details"));
    assertEquals("required_input_missing", r.nodeErrors().getJsonObject("60").getJsonArray("errors").getJsonObject(0).getString("type"));

    JsonObject g2 = graph("qwen-image-edit");
    g2.getJsonObject("93").getJsonObject("inputs").remove("resolution_steps");
    g2.getJsonObject("3").getJsonObject("inputs").put("steps", 0).put("cfg", "lots");
    JsonObject ne = validate(g2).nodeErrors();
    assertEquals("required_input_missing", ne.getJsonObject("93").getJsonArray("errors").getJsonObject(0).getString("type"),
        "newer ComfyUI requires resolution_steps");
    JsonArray ks = ne.getJsonObject("3").getJsonArray("errors");
    assertEquals("value_smaller_than_min", ks.getJsonObject(0).getString("type"));
    assertEquals("Value 0 smaller than min of 1", ks.getJsonObject(0).getString("message"));
    assertEquals("invalid_input_type", ks.getJsonObject(1).getString("type"));
    assertEquals("Failed to convert an input value to a FLOAT value", ks.getJsonObject(1).getString("message"));
  }

  @Test
  void linksOfTheWrongTypeAndMissingImagesAreCaught() {
    JsonObject g = graph("qwen-image-edit");
    g.getJsonObject("8").getJsonObject("inputs").put("samples", new JsonArray().add("93").add(0));
    JsonObject ne = validate(g).nodeErrors();
    JsonObject mismatch = ne.getJsonObject("8").getJsonArray("errors").getJsonObject(0);
    assertEquals("return_type_mismatch", mismatch.getString("type"));
    assertEquals("samples, IMAGE != LATENT", mismatch.getString("details"));

    JsonObject g2 = graph("qwen-image-edit");
    g2.getJsonObject("78").getJsonObject("inputs").put("image", "gone.png");
    JsonObject img = validate(g2).nodeErrors().getJsonObject("78").getJsonArray("errors").getJsonObject(0);
    assertEquals("custom_validation_failed", img.getString("type"));
    assertEquals("image - Invalid image file: gone.png", img.getString("details"));
  }

  @Test
  void unknownClassesAndGraphsWithoutOutputsFailBeforeInputValidation() {
    JsonObject g = graph("qwen-image-edit");
    g.put("99", new JsonObject().put("class_type", "ReActorFaceSwap").put("inputs", new JsonObject()).put("_meta", new JsonObject().put("title", "Face swap")));
    PromptValidator.Result r = validate(g);
    assertEquals("missing_node_type", r.error().getString("type"));
    assertEquals("Node 'Face swap' not found. The custom node may not be installed.", r.error().getString("message"));
    assertEquals("ReActorFaceSwap", r.error().getJsonObject("extra_info").getString("class_type"));
    assertTrue(r.nodeErrors().isEmpty());

    JsonObject noOut = graph("qwen-image-edit");
    noOut.remove("60");
    assertEquals("prompt_no_outputs", validate(noOut).error().getString("type"));
  }

  @Test
  void pythonLikeConversionsAreAccepted() {
    JsonObject g = graph("qwen-image-edit");
    g.getJsonObject("3").getJsonObject("inputs").put("steps", "12").put("seed", new java.math.BigInteger("18446744073709551615"));
    assertTrue(validate(g).accepted(), "int('12') works in Python, and the seed may use all 64 bits");
    g.getJsonObject("3").getJsonObject("inputs").put("seed", new java.math.BigInteger("18446744073709551616"));
    assertEquals("value_bigger_than_max", validate(g).nodeErrors().getJsonObject("3").getJsonArray("errors").getJsonObject(0).getString("type"));
  }
}
