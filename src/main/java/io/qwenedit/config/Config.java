package io.qwenedit.config;

import java.util.List;

/**
 * The whole configuration, typed and validated, built once at start-up by {@link ConfigLoader} and then sliced into
 * each role's and verticle's settings.
 */
public record Config(RedisConfig redis, QueueConfig queue, WorkerConfig worker, ComfyConfig comfy, ApiConfig api,
                     HealthConfig health, BotConfig bot, LogConfig log, List<String> warnings) {

  /** Builds and validates every section; throws {@link ConfigException} on the first bad value. */
  public static Config from(Settings s) {
    RedisConfig redis = RedisConfig.from(s);
    QueueConfig queue = QueueConfig.from(s);
    WorkerConfig worker = WorkerConfig.from(s);
    ComfyConfig comfy = ComfyConfig.from(s);
    ApiConfig api = ApiConfig.from(s);
    HealthConfig health = HealthConfig.from(s);
    BotConfig bot = BotConfig.from(s);
    LogConfig log = LogConfig.from(s);
    List<String> warnings = s.unusedFileKeys().stream().map(k -> "Unknown setting " + k + " is ignored").toList();
    return new Config(redis, queue, worker, comfy, api, health, bot, log, warnings);
  }

  public Config withRedis(RedisConfig r) {
    return new Config(r, queue, worker, comfy, api, health, bot, log, warnings);
  }

  public Config withQueue(QueueConfig q) {
    return new Config(redis, q, worker, comfy, api, health, bot, log, warnings);
  }

  public Config withBot(BotConfig b) {
    return new Config(redis, queue, worker, comfy, api, health, b, log, warnings);
  }
}
