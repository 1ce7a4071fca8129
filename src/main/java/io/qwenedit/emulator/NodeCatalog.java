package io.qwenedit.emulator;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The node classes the emulator knows: those of the Qwen-Image-Edit workflows (and PreviewImage), with ComfyUI's input
 * specifications, so validation and {@code /object_info} answer as ComfyUI 0.38 does for them. Combo inputs that list
 * model files or uploaded images are filled in at request time.
 */
final class NodeCatalog {
  static final BigInteger SEED_MAX = new BigInteger("18446744073709551615");

  /** An input: its type (INT, FLOAT, STRING, BOOLEAN, COMBO or a link type such as IMAGE) and options. */
  record Input(String name, String type, boolean required, JsonObject options, List<String> choices, String folder) {
    boolean isLink() {
      return switch (type) {
        case "INT", "FLOAT", "STRING", "BOOLEAN", "COMBO" -> false;
        default -> true;
      };
    }
  }

  /** A node class as ComfyUI describes it. */
  record NodeClass(String name, String displayName, String category, String pythonModule, String description,
      List<Input> inputs, List<String> outputs, List<String> outputNames, boolean outputNode) {
    Input input(String name) {
      return inputs.stream().filter(i -> i.name().equals(name)).findFirst().orElse(null);
    }
  }

  static final List<String> WEIGHT_DTYPES = List.of("default", "fp8_e4m3fn", "fp8_e4m3fn_fast", "fp8_e5m2");
  static final List<String> CLIP_TYPES = List.of("stable_diffusion", "stable_cascade", "sd3", "stable_audio", "mochi", "ltxv",
      "pixart", "cosmos", "lumina2", "wan", "hidream", "chroma", "ace", "omnigen2", "qwen_image", "hunyuan_image");
  static final List<String> UPSCALE_METHODS = List.of("nearest-exact", "bilinear", "area", "bicubic", "lanczos");
  static final List<String> SAMPLERS = List.of("euler", "euler_cfg_pp", "euler_ancestral", "euler_ancestral_cfg_pp", "heun",
      "heunpp2", "dpm_2", "dpm_2_ancestral", "lms", "dpm_fast", "dpm_adaptive", "dpmpp_2s_ancestral", "dpmpp_sde", "dpmpp_2m",
      "dpmpp_2m_sde", "dpmpp_3m_sde", "ddpm", "lcm", "ipndm", "deis", "res_multistep", "gradient_estimation", "er_sde", "ddim", "uni_pc");
  static final List<String> SCHEDULERS = List.of("simple", "sgm_uniform", "karras", "exponential", "ddim_uniform", "beta",
      "normal", "linear_quadratic", "kl_optimal");

  static final Map<String, NodeClass> CLASSES = build();

  private NodeCatalog() {}

  static NodeClass get(String name) {
    return CLASSES.get(name);
  }

  /** Model folders whose file lists feed combo inputs (the {@code /models/{folder}} names). */
  static final List<String> MODEL_FOLDERS = List.of("diffusion_models", "text_encoders", "vae", "loras");

  private static Map<String, NodeClass> build() {
    Map<String, NodeClass> m = new LinkedHashMap<>();
    add(m, "UNETLoader", "Load Diffusion Model", "advanced/loaders", "nodes", "",
        List.of(folderCombo("unet_name", "diffusion_models"), combo("weight_dtype", WEIGHT_DTYPES)), List.of("MODEL"), false);
    add(m, "CLIPLoader", "Load CLIP", "advanced/loaders", "nodes",
        "[Recipes]\n\nqwen_image: qwen 2.5 vl 7b",
        List.of(folderCombo("clip_name", "text_encoders"), combo("type", CLIP_TYPES), optional(combo("device", List.of("default", "cpu")))),
        List.of("CLIP"), false);
    add(m, "VAELoader", "Load VAE", "loaders", "nodes", "", List.of(folderCombo("vae_name", "vae")), List.of("VAE"), false);
    add(m, "LoraLoaderModelOnly", "LoraLoaderModelOnly", "loaders", "nodes", "",
        List.of(link("model", "MODEL"), folderCombo("lora_name", "loras"), number("strength_model", "FLOAT", 1.0, -100.0, 100.0, 0.01)),
        List.of("MODEL"), false);
    add(m, "ModelSamplingAuraFlow", "ModelSamplingAuraFlow", "advanced/model", "comfy_extras.nodes_model_advanced", "",
        List.of(link("model", "MODEL"), number("shift", "FLOAT", 1.73, 0.0, 100.0, 0.01)), List.of("MODEL"), false);
    add(m, "CFGNorm", "CFGNorm", "advanced/guidance", "comfy_extras.nodes_cfg", "",
        List.of(link("model", "MODEL"), number("strength", "FLOAT", 1.0, 0.0, 100.0, 0.01)), List.of("MODEL"), List.of("patched_model"), false);
    add(m, "LoadImage", "Load Image", "image", "nodes", "",
        List.of(new Input("image", "COMBO", true, new JsonObject().put("image_upload", true), null, "input")),
        List.of("IMAGE", "MASK"), false);
    add(m, "ImageScaleToTotalPixels", "Scale Image to Total Pixels", "image/upscaling", "comfy_extras.nodes_post_processing", "",
        List.of(link("image", "IMAGE"), combo("upscale_method", UPSCALE_METHODS), number("megapixels", "FLOAT", 1.0, 0.01, 16.0, 0.01),
            number("resolution_steps", "INT", 1, 1, 256, 1)),
        List.of("IMAGE"), false);
    add(m, "TextEncodeQwenImageEdit", "TextEncodeQwenImageEdit", "advanced/conditioning", "comfy_extras.nodes_qwen", "",
        List.of(link("clip", "CLIP"), text("prompt"), optional(link("vae", "VAE")), optional(link("image", "IMAGE"))),
        List.of("CONDITIONING"), false);
    add(m, "TextEncodeQwenImageEditPlus", "TextEncodeQwenImageEditPlus", "advanced/conditioning", "comfy_extras.nodes_qwen", "",
        List.of(link("clip", "CLIP"), text("prompt"), optional(link("vae", "VAE")), optional(link("image1", "IMAGE")),
            optional(link("image2", "IMAGE")), optional(link("image3", "IMAGE"))),
        List.of("CONDITIONING"), false);
    add(m, "FluxKontextImageScale", "FluxKontextImageScale", "advanced/conditioning/flux", "comfy_extras.nodes_flux",
        "This node resizes the image to one that is more optimal for flux kontext.", List.of(link("image", "IMAGE")), List.of("IMAGE"), false);
    add(m, "VAEEncode", "VAE Encode", "latent", "nodes", "", List.of(link("pixels", "IMAGE"), link("vae", "VAE")), List.of("LATENT"), false);
    add(m, "VAEDecode", "VAE Decode", "latent", "nodes", "Decodes latent images back into pixel space images.",
        List.of(link("samples", "LATENT"), link("vae", "VAE")), List.of("IMAGE"), false);
    add(m, "KSampler", "KSampler", "sampling", "nodes", "Uses the provided model, positive and negative conditioning to denoise the latent image.",
        List.of(link("model", "MODEL"),
            new Input("seed", "INT", true, new JsonObject().put("default", 0).put("min", 0).put("max", SEED_MAX)
                .put("control_after_generate", true).put("tooltip", "The random seed used for creating the noise."), null, null),
            number("steps", "INT", 20, 1, 10000, 1), number("cfg", "FLOAT", 8.0, 0.0, 100.0, 0.1),
            combo("sampler_name", SAMPLERS), combo("scheduler", SCHEDULERS),
            link("positive", "CONDITIONING"), link("negative", "CONDITIONING"), link("latent_image", "LATENT"),
            number("denoise", "FLOAT", 1.0, 0.0, 1.0, 0.01)),
        List.of("LATENT"), false);
    add(m, "SaveImage", "Save Image", "image", "nodes", "Saves the input images to your ComfyUI output directory.",
        List.of(link("images", "IMAGE"), new Input("filename_prefix", "STRING", true, new JsonObject().put("default", "ComfyUI"), null, null)),
        List.of(), true);
    add(m, "PreviewImage", "Preview Image", "image", "nodes", "Saves the input images to your ComfyUI output directory.",
        List.of(link("images", "IMAGE")), List.of(), true);
    return m;
  }

  private static void add(Map<String, NodeClass> m, String name, String display, String category, String module, String description,
      List<Input> inputs, List<String> outputs, boolean outputNode) {
    add(m, name, display, category, module, description, inputs, outputs, outputs, outputNode);
  }

  private static void add(Map<String, NodeClass> m, String name, String display, String category, String module, String description,
      List<Input> inputs, List<String> outputs, List<String> outputNames, boolean outputNode) {
    m.put(name, new NodeClass(name, display, category, module, description, inputs, outputs, outputNames, outputNode));
  }

  private static Input link(String name, String type) {
    return new Input(name, type, true, new JsonObject(), null, null);
  }

  private static Input text(String name) {
    return new Input(name, "STRING", true, new JsonObject().put("multiline", true).put("dynamicPrompts", true), null, null);
  }

  private static Input combo(String name, List<String> choices) {
    return new Input(name, "COMBO", true, new JsonObject(), choices, null);
  }

  private static Input folderCombo(String name, String folder) {
    return new Input(name, "COMBO", true, new JsonObject(), null, folder);
  }

  private static Input number(String name, String type, Number dflt, Number min, Number max, Number step) {
    return new Input(name, type, true, new JsonObject().put("default", dflt).put("min", min).put("max", max).put("step", step), null, null);
  }

  private static Input optional(Input i) {
    return new Input(i.name(), i.type(), false, i.options(), i.choices(), i.folder());
  }

  /** The choices of a combo input; {@code files} gives the current file list of a folder ("input" = uploads). */
  static List<String> choices(Input in, Function<String, List<String>> files) {
    return in.folder() != null ? files.apply(in.folder()) : in.choices();
  }

  /** The input specification as {@code /object_info} shows it: {@code ["INT", {...}]} or {@code [[choices], {...}]}. */
  static JsonArray spec(Input in, Function<String, List<String>> files) {
    if ("COMBO".equals(in.type())) {
      return new JsonArray().add(new JsonArray(new ArrayList<>(choices(in, files)))).add(in.options().copy());
    }
    JsonArray a = new JsonArray().add(in.type());
    if (!in.options().isEmpty()) {
      a.add(in.options().copy());
    }
    return a;
  }

  /** One class's {@code /object_info} entry. */
  static JsonObject objectInfo(NodeClass c, Function<String, List<String>> files) {
    JsonObject required = new JsonObject();
    JsonObject optional = new JsonObject();
    JsonArray requiredOrder = new JsonArray();
    JsonArray optionalOrder = new JsonArray();
    for (Input in : c.inputs()) {
      (in.required() ? required : optional).put(in.name(), spec(in, files));
      (in.required() ? requiredOrder : optionalOrder).add(in.name());
    }
    JsonObject input = new JsonObject().put("required", required);
    JsonObject order = new JsonObject().put("required", requiredOrder);
    if (!optional.isEmpty()) {
      input.put("optional", optional);
      order.put("optional", optionalOrder);
    }
    if ("SaveImage".equals(c.name()) || "PreviewImage".equals(c.name())) {
      input.put("hidden", new JsonObject().put("prompt", "PROMPT").put("extra_pnginfo", "EXTRA_PNGINFO"));
    }
    JsonArray isList = new JsonArray();
    c.outputs().forEach(o -> isList.add(false));
    return new JsonObject()
        .put("input", input)
        .put("input_order", order)
        .put("output", new JsonArray(new ArrayList<>(c.outputs())))
        .put("output_is_list", isList)
        .put("output_name", new JsonArray(new ArrayList<>(c.outputNames())))
        .put("name", c.name())
        .put("display_name", c.displayName())
        .put("description", c.description())
        .put("python_module", c.pythonModule())
        .put("category", c.category())
        .put("output_node", c.outputNode());
  }
}
