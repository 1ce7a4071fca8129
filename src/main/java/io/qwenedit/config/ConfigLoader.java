package io.qwenedit.config;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Builds the {@link Config} from, lowest priority first: the defaults shipped in the jar, {@code conf/config.json}
 * (or the file named by {@code --config} / {@code QWENEDIT_CONFIG}), a {@code .env} file in the working directory,
 * and the process environment.
 */
public final class ConfigLoader {
  public static final String BUILT_IN_DEFAULTS = "qwenedit-conf/config.json";

  private ConfigLoader() {}

  public static Config load(Path workDir, Map<String, String> env, Path explicitConfigFile) {
    return Config.from(settings(workDir, env, explicitConfigFile));
  }

  public static Settings settings(Path workDir, Map<String, String> env, Path explicitConfigFile) {
    List<Map<String, String>> layers = new ArrayList<>();
    List<String> names = new ArrayList<>();

    layers.add(builtInDefaults());
    names.add("built-in defaults");

    Path configFile = explicitConfigFile;
    if (configFile == null && env.get("QWENEDIT_CONFIG") != null && !env.get("QWENEDIT_CONFIG").isBlank()) {
      configFile = Path.of(env.get("QWENEDIT_CONFIG"));
    }
    if (configFile != null && !Files.isRegularFile(configFile)) {
      throw new ConfigException("Configuration file " + configFile + " does not exist or is not a file");
    }
    if (configFile == null && Files.isRegularFile(workDir.resolve("conf/config.json"))) {
      configFile = workDir.resolve("conf/config.json");
    }
    if (configFile != null) {
      layers.add(Settings.fromJson(readJson(configFile), configFile.toString()));
      names.add(configFile.toString());
    }

    Path dotEnv = workDir.resolve(".env");
    if (Files.isRegularFile(dotEnv)) {
      layers.add(DotEnv.read(dotEnv));
      names.add(".env");
    }

    layers.add(env);
    names.add("environment");
    return Settings.layered(layers, names);
  }

  static Map<String, String> builtInDefaults() {
    try (InputStream in = ConfigLoader.class.getClassLoader().getResourceAsStream(BUILT_IN_DEFAULTS)) {
      if (in == null) {
        return Map.of();
      }
      return Settings.fromJson(parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), "built-in config.json"), "built-in config.json");
    } catch (IOException e) {
      throw new ConfigException("Cannot read the built-in defaults: " + e.getMessage());
    }
  }

  static JsonObject readJson(Path file) {
    try {
      return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
    } catch (IOException e) {
      throw new ConfigException("Cannot read " + file + ": " + e.getMessage());
    }
  }

  private static JsonObject parse(String text, String name) {
    try {
      return new JsonObject(text);
    } catch (DecodeException e) {
      String msg = e.getMessage() == null ? "" : e.getMessage().split("\n")[0];
      throw new ConfigException(name + " is not valid JSON: " + msg);
    }
  }
}
