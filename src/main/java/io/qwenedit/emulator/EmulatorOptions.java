package io.qwenedit.emulator;

import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How the emulator behaves: where it listens, how long work takes, limits, previews, the model files it "has", and
 * the fault script it starts with. Immutable; the {@code with...} methods return a changed copy.
 *
 * @param host listen address
 * @param port listen port (0: any free port; {@link ComfyEmulator#port()} tells which)
 * @param stepTime time of one sampler step
 * @param steps sampler steps to run (null: the KSampler's own {@code steps} from the graph)
 * @param nodeTime time of every other node that runs (not cached)
 * @param modelLoadTime extra time, without any message, the first prompt (and the first after {@code /free}) spends loading models
 * @param maxUploadBytes request body limit ({@code --max-upload-size}); over it, 413
 * @param previews send binary preview frames at each sampler step ({@code --preview-method auto})
 * @param previewSize longest side of a preview image
 * @param faults the fault script in force at start (docs/comfyui.md)
 * @param models model files present, by folder (diffusion_models, text_encoders, vae, loras)
 * @param randomSeed seed of the fault dice (null: random)
 * @param historyMax history entries kept (ComfyUI: 10000)
 * @param maxFiles stored files (uploads and outputs) kept in memory before the oldest are forgotten
 */
public record EmulatorOptions(String host, int port, Duration stepTime, Integer steps, Duration nodeTime, Duration modelLoadTime,
    long maxUploadBytes, boolean previews, int previewSize, JsonObject faults, Map<String, List<String>> models, Long randomSeed,
    int historyMax, int maxFiles) {

  public static final List<String> DIFFUSION_MODELS = List.of("qwen_image_edit_fp8_e4m3fn.safetensors", "qwen_image_edit_2509_fp8_e4m3fn.safetensors");
  public static final List<String> TEXT_ENCODERS = List.of("qwen_2.5_vl_7b_fp8_scaled.safetensors");
  public static final List<String> VAES = List.of("qwen_image_vae.safetensors");
  public static final List<String> LORAS = List.of("Qwen-Image-Edit-Lightning-4steps-V1.0-bf16.safetensors",
      "Qwen-Image-Edit-2509-Lightning-4steps-V1.0-bf16.safetensors");

  /** Loopback, any free port, 250 ms per step, no model-load delay, 100 MB body limit, no previews, no faults. */
  public static EmulatorOptions defaults() {
    Map<String, List<String>> models = new LinkedHashMap<>();
    models.put("diffusion_models", DIFFUSION_MODELS);
    models.put("text_encoders", TEXT_ENCODERS);
    models.put("vae", VAES);
    models.put("loras", LORAS);
    return new EmulatorOptions("127.0.0.1", 0, Duration.ofMillis(250), null, Duration.ofMillis(10), Duration.ZERO,
        100L * 1024 * 1024, false, 512, new JsonObject(), models, null, 10_000, 5_000);
  }

  /** Fast settings for tests: 20 ms steps, 2 ms nodes. */
  public static EmulatorOptions fast() {
    return defaults().withStepTime(Duration.ofMillis(20)).withNodeTime(Duration.ofMillis(2));
  }

  public EmulatorOptions withHost(String h) {
    return new EmulatorOptions(h, port, stepTime, steps, nodeTime, modelLoadTime, maxUploadBytes, previews, previewSize, faults, models, randomSeed, historyMax, maxFiles);
  }

  public EmulatorOptions withPort(int p) {
    return new EmulatorOptions(host, p, stepTime, steps, nodeTime, modelLoadTime, maxUploadBytes, previews, previewSize, faults, models, randomSeed, historyMax, maxFiles);
  }

  public EmulatorOptions withStepTime(Duration d) {
    return new EmulatorOptions(host, port, d, steps, nodeTime, modelLoadTime, maxUploadBytes, previews, previewSize, faults, models, randomSeed, historyMax, maxFiles);
  }

  public EmulatorOptions withSteps(Integer n) {
    return new EmulatorOptions(host, port, stepTime, n, nodeTime, modelLoadTime, maxUploadBytes, previews, previewSize, faults, models, randomSeed, historyMax, maxFiles);
  }

  public EmulatorOptions withNodeTime(Duration d) {
    return new EmulatorOptions(host, port, stepTime, steps, d, modelLoadTime, maxUploadBytes, previews, previewSize, faults, models, randomSeed, historyMax, maxFiles);
  }

  public EmulatorOptions withModelLoadTime(Duration d) {
    return new EmulatorOptions(host, port, stepTime, steps, nodeTime, d, maxUploadBytes, previews, previewSize, faults, models, randomSeed, historyMax, maxFiles);
  }

  public EmulatorOptions withMaxUploadBytes(long b) {
    return new EmulatorOptions(host, port, stepTime, steps, nodeTime, modelLoadTime, b, previews, previewSize, faults, models, randomSeed, historyMax, maxFiles);
  }

  public EmulatorOptions withPreviews(boolean on) {
    return new EmulatorOptions(host, port, stepTime, steps, nodeTime, modelLoadTime, maxUploadBytes, on, previewSize, faults, models, randomSeed, historyMax, maxFiles);
  }

  public EmulatorOptions withPreviewSize(int px) {
    return new EmulatorOptions(host, port, stepTime, steps, nodeTime, modelLoadTime, maxUploadBytes, previews, px, faults, models, randomSeed, historyMax, maxFiles);
  }

  /** The fault script in force at start (same format as {@code POST /_emulator/faults}). */
  public EmulatorOptions withFaults(JsonObject script) {
    return new EmulatorOptions(host, port, stepTime, steps, nodeTime, modelLoadTime, maxUploadBytes, previews, previewSize, script, models, randomSeed, historyMax, maxFiles);
  }

  public EmulatorOptions withModels(Map<String, List<String>> m) {
    return new EmulatorOptions(host, port, stepTime, steps, nodeTime, modelLoadTime, maxUploadBytes, previews, previewSize, faults, m, randomSeed, historyMax, maxFiles);
  }

  /** The same model files minus one (a missing model: validation then fails with value_not_in_list). */
  public EmulatorOptions withoutModel(String file) {
    Map<String, List<String>> m = new LinkedHashMap<>();
    models.forEach((folder, files) -> {
      List<String> kept = new ArrayList<>(files);
      kept.remove(file);
      m.put(folder, List.copyOf(kept));
    });
    return withModels(m);
  }

  public EmulatorOptions withRandomSeed(Long seed) {
    return new EmulatorOptions(host, port, stepTime, steps, nodeTime, modelLoadTime, maxUploadBytes, previews, previewSize, faults, models, seed, historyMax, maxFiles);
  }

  public EmulatorOptions withHistoryMax(int n) {
    return new EmulatorOptions(host, port, stepTime, steps, nodeTime, modelLoadTime, maxUploadBytes, previews, previewSize, faults, models, randomSeed, n, maxFiles);
  }
}
