package io.qwenedit.testing;

import io.qwenedit.config.Config;
import io.qwenedit.config.Settings;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Configurations for tests: short timings, a given Redis, and any overrides (name, value, name, value...). */
public final class TestConfigs {
  private TestConfigs() {}

  public static Config config(String redisUrl, String... overrides) {
    Map<String, String> m = new HashMap<>();
    m.put("REDIS_URL", redisUrl);
    m.put("WORKER_POLLING_INTERVAL", "1s");
    m.put("WORKER_BLOCK_GRACE", "500ms");
    m.put("JOB_LEASE_SECONDS", "5");
    m.put("JOB_RETRY_BASE", "100ms");
    m.put("JOB_RETRY_MAX", "400ms");
    m.put("REDIS_COMMAND_TIMEOUT", "2s");
    m.put("REDIS_CONNECT_TIMEOUT", "1s");
    m.put("WORKER_ID", "test-worker");
    // a bot's outage file of its own, under target/ (not data/ in the working copy, not shared between tests)
    m.put("BOT_OUTAGE_FILE", "target/test-data/bot-outage-" + java.util.UUID.randomUUID() + ".jsonl");
    for (int i = 0; i + 1 < overrides.length; i += 2) {
      m.put(overrides[i], overrides[i + 1]);
    }
    return Config.from(Settings.layered(List.of(m), List.of("test")));
  }
}
