package io.qwenedit.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Every problem of a configuration, not only the first ({@code doctor}): building the {@link Config} stops at the
 * first bad value, so each bad setting is noted and dropped (its default takes its place) and the build is tried
 * again, until it succeeds or a problem cannot be set aside.
 */
public final class ConfigCheck {
  private static final Pattern SETTING = Pattern.compile("\\bsetting ([A-Z][A-Z0-9_]*)");
  private static final int MAX_ROUNDS = 100;

  /**
   * @param config the configuration with every bad setting replaced by its default (null when even that fails)
   * @param problems one line per problem, worded for the operator
   * @param badSettings the settings named by the problems
   * @param warnings e.g. unknown keys in config.json or .env
   */
  public record Diagnosis(Config config, List<String> problems, Set<String> badSettings, List<String> warnings) {
    public boolean ok() {
      return problems.isEmpty();
    }
  }

  private ConfigCheck() {}

  public static Diagnosis diagnose(Path workDir, Map<String, String> env, Path configFile) {
    Settings settings;
    try {
      settings = ConfigLoader.settings(workDir, env, configFile);
    } catch (ConfigException e) {
      return new Diagnosis(null, List.of(e.getMessage()), Set.of(), List.of());
    }
    return diagnose(settings);
  }

  public static Diagnosis diagnose(Settings settings) {
    List<String> problems = new ArrayList<>();
    Set<String> bad = new LinkedHashSet<>();
    Settings current = settings;
    for (int round = 0; round < MAX_ROUNDS; round++) {
      try {
        Config config = Config.from(current);
        List<String> warnings = new ArrayList<>(config.warnings());
        if (config.api().port() == config.health().port()) {
          problems.add("HTTP_PORT and HEALTH_PORT are both " + config.api().port() + ": the api and all commands need them to differ");
        }
        return new Diagnosis(config, problems, bad, warnings);
      } catch (ConfigException e) {
        problems.add(e.getMessage());
        String name = settingNamed(e.getMessage());
        if (name == null || !current.isSet(name) || !bad.add(name)) {
          return new Diagnosis(null, problems, bad, List.of()); // cannot be set aside: nothing more to learn
        }
        current = current.without(name);
      }
    }
    return new Diagnosis(null, problems, bad, List.of());
  }

  /** The setting a problem is about ("Invalid setting REDIS_PORT=..." names REDIS_PORT), or null. */
  static String settingNamed(String message) {
    Matcher m = SETTING.matcher(message == null ? "" : message);
    return m.find() ? m.group(1) : null;
  }
}
