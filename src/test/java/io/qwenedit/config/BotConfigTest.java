package io.qwenedit.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class BotConfigTest {
  private static final String TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";

  private static Config load(String... kv) {
    Map<String, String> env = new HashMap<>();
    for (int i = 0; i + 1 < kv.length; i += 2) {
      env.put(kv[i], kv[i + 1]);
    }
    return ConfigLoader.load(Path.of("/nonexistent-workdir"), env, null);
  }

  @Test
  void defaultsComeFromTheShippedConfigAndNoBotKeyIsUnknown() {
    Config c = load();
    BotConfig b = c.bot();
    assertNull(b.token());
    assertEquals("https://api.telegram.org", b.apiUrl().toString());
    assertEquals("polling", b.mode());
    assertEquals(Duration.ofSeconds(25), b.pollTimeout());
    assertEquals(1, b.maxActiveJobsPerUser());
    assertEquals(50, b.dailyQuota());
    assertEquals(25, b.globalRate());
    assertTrue(b.adminIds().isEmpty());
    assertTrue(c.warnings().isEmpty(), c.warnings().toString());
  }

  @Test
  void aMissingOrMalformedTokenStopsTheBotWithOneLineThatNeverShowsIt() {
    ConfigException missing = assertThrows(ConfigException.class, () -> load().bot().requireToken());
    assertTrue(missing.getMessage().startsWith("Missing setting TELEGRAM_BOT_TOKEN"), missing.getMessage());
    assertFalse(missing.getMessage().contains("\n"));
    String bad = "12345:short-secret";
    ConfigException invalid = assertThrows(ConfigException.class, () -> load("TELEGRAM_BOT_TOKEN", bad).bot().requireToken());
    assertFalse(invalid.getMessage().contains("short-secret"), "the value is never printed: " + invalid.getMessage());
    assertEquals("123456789", load("TELEGRAM_BOT_TOKEN", TOKEN).bot().botId());
  }

  @Test
  void theTokenNeverAppearsInToString() {
    BotConfig b = load("TELEGRAM_BOT_TOKEN", TOKEN).bot();
    assertFalse(b.toString().contains("AAHdq"), b.toString());
    assertFalse(load("TELEGRAM_BOT_TOKEN", TOKEN).toString().contains("AAHdq"));
  }

  @Test
  void limitsAndListsAreRead() {
    BotConfig b = load("BOT_MAX_ACTIVE_JOBS_PER_USER", "3", "BOT_DAILY_QUOTA", "0", "BOT_ADMIN_IDS", "1, 2",
        "BOT_ALLOWED_USERS", "5", "BOT_BANNED_USERS", "", "BOT_DEFAULT_LANGUAGE", "ru").bot();
    assertEquals(3, b.maxActiveJobsPerUser());
    assertEquals(0, b.dailyQuota());
    assertEquals(Set.of(1L, 2L), b.adminIds());
    assertEquals(Set.of(5L), b.allowedUsers());
    assertTrue(b.isAdmin(2));
    assertEquals("ru", b.defaultLanguage());
  }

  @Test
  void badValuesAreRefusedWithTheSettingsName() {
    assertTrue(assertThrows(ConfigException.class, () -> load("BOT_ADMIN_IDS", "1,bob")).getMessage()
        .startsWith("Invalid setting BOT_ADMIN_IDS"));
    assertTrue(assertThrows(ConfigException.class, () -> load("BOT_POLL_TIMEOUT", "90s")).getMessage()
        .startsWith("Invalid setting BOT_POLL_TIMEOUT"));
    assertTrue(assertThrows(ConfigException.class, () -> load("BOT_MODE", "push")).getMessage()
        .contains("expected one of polling, webhook"));
    assertTrue(assertThrows(ConfigException.class, () -> load("TELEGRAM_API_URL", "ftp://x")).getMessage()
        .startsWith("Invalid setting TELEGRAM_API_URL"));
  }

  @Test
  void webhookModeNeedsAUrlAndAValidSecret() {
    assertTrue(assertThrows(ConfigException.class, () -> load("BOT_MODE", "webhook")).getMessage()
        .contains("needs BOT_WEBHOOK_URL"));
    ConfigException bad = assertThrows(ConfigException.class, () -> load("BOT_MODE", "webhook",
        "BOT_WEBHOOK_URL", "https://bot.example.com/hook", "BOT_WEBHOOK_SECRET", "has spaces!"));
    assertFalse(bad.getMessage().contains("has spaces"), bad.getMessage());
    BotConfig ok = load("BOT_MODE", "webhook", "BOT_WEBHOOK_URL", "https://bot.example.com/hook",
        "BOT_WEBHOOK_SECRET", "abc_DEF-123").bot();
    assertTrue(ok.webhook());
    assertEquals(8443, ok.webhookPort());
  }
}
