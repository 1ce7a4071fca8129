package io.qwenedit.config;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The Telegram bot's settings. The token is only checked when the bot starts ({@link #requireToken()}), so the other
 * commands run without one; it never appears in {@link #toString()}, logs or error messages.
 *
 * @param token the bot token from @BotFather ({@code TELEGRAM_BOT_TOKEN}); null when unset
 * @param apiUrl base URL of the Bot API ({@code TELEGRAM_API_URL}): the cloud, a local Bot API server, or a test stub
 * @param mode {@code polling} or {@code webhook}
 * @param pollTimeout long-poll seconds asked of getUpdates (Telegram clamps to 50)
 * @param pollGrace the HTTP read limit of a poll is pollTimeout + this
 * @param httpTimeout read limit of every other Bot API call and file download
 * @param backoffMax cap of the back-off after Telegram errors (network, 5xx)
 * @param leaseTtl time-to-live of the Redis lease that makes one instance per token the active one
 * @param chatInterval least time between two messages to one private chat (groups: 3x this)
 * @param globalRate messages per second across all chats
 * @param statusInterval least time between two edits of one status message while the job waits and runs (the
 *     final edit, made once the result is sent, is not held back)
 * @param pendingPhotoTtl how long a photo sent without a caption waits for its instruction
 * @param maxActiveJobsPerUser jobs a person may have queued or running at once
 * @param dailyQuota edits a person may ask for per UTC day (0: no limit)
 * @param allowedUsers when not empty, only these user ids (and admins) may use the bot
 * @param bannedUsers user ids refused (admins can add more with /ban)
 * @param adminIds user ids that get /stats, /ban, /unban, and no quota
 * @param defaultLanguage texts for people whose Telegram language is neither Russian nor English
 * @param outageBuffer requests kept in memory while Redis is down, queued once it is back
 * @param instanceId this process's name in the lease and the outcome consumer group
 * @param outageFile where requests kept while Redis is down are written (read back at start), or null: memory only
 */
public record BotConfig(
    String token,
    URI apiUrl,
    String mode,
    URI webhookUrl,
    String webhookSecret,
    String webhookHost,
    int webhookPort,
    String webhookPath,
    Duration pollTimeout,
    Duration pollGrace,
    Duration httpTimeout,
    Duration backoffMax,
    Duration leaseTtl,
    Duration chatInterval,
    int globalRate,
    Duration statusInterval,
    Duration pendingPhotoTtl,
    int maxActiveJobsPerUser,
    int dailyQuota,
    Set<Long> allowedUsers,
    Set<Long> bannedUsers,
    Set<Long> adminIds,
    String defaultLanguage,
    int outageBuffer,
    String instanceId,
    String outageFile) {

  private static final Pattern TOKEN = Pattern.compile("\\d{1,20}:[A-Za-z0-9_-]{20,200}");
  private static final Pattern SECRET = Pattern.compile("[A-Za-z0-9_-]{1,256}");

  static BotConfig from(Settings s) {
    String token = s.string("TELEGRAM_BOT_TOKEN", null);
    String mode = s.choice("BOT_MODE", "polling", "polling", "webhook");
    URI webhookUrl = s.url("BOT_WEBHOOK_URL", null, "https", "http");
    String secret = s.string("BOT_WEBHOOK_SECRET", null);
    if (secret != null && !SECRET.matcher(secret).matches()) {
      throw new ConfigException("Invalid setting BOT_WEBHOOK_SECRET (from " + s.source("BOT_WEBHOOK_SECRET")
          + "): expected 1-256 characters from A-Z a-z 0-9 _ - (the value is not shown)");
    }
    if ("webhook".equals(mode) && (webhookUrl == null || secret == null)) {
      throw new ConfigException("Setting BOT_MODE=webhook (from " + s.source("BOT_MODE") + ") needs BOT_WEBHOOK_URL (the public "
          + "https address Telegram posts to) and BOT_WEBHOOK_SECRET (1-256 characters from A-Z a-z 0-9 _ -)");
    }
    String path = s.string("BOT_WEBHOOK_PATH", "/telegram/webhook");
    if (!path.startsWith("/")) {
      throw new ConfigException("Invalid setting BOT_WEBHOOK_PATH=\"" + path + "\" (from " + s.source("BOT_WEBHOOK_PATH")
          + "): expected a path starting with /");
    }
    return new BotConfig(
        token,
        s.url("TELEGRAM_API_URL", "https://api.telegram.org", "https", "http"),
        mode,
        webhookUrl,
        secret,
        s.string("BOT_WEBHOOK_HOST", "0.0.0.0"),
        s.port("BOT_WEBHOOK_PORT", 8443),
        path,
        s.seconds("BOT_POLL_TIMEOUT", Duration.ofSeconds(25), Duration.ofSeconds(1), Duration.ofSeconds(50)),
        s.seconds("BOT_POLL_GRACE", Duration.ofSeconds(15), Duration.ofMillis(200), Duration.ofMinutes(5)),
        s.seconds("BOT_HTTP_TIMEOUT", Duration.ofSeconds(30), Duration.ofMillis(200), Duration.ofMinutes(10)),
        s.seconds("BOT_BACKOFF_MAX", Duration.ofSeconds(30), Duration.ofMillis(100), Duration.ofMinutes(10)),
        s.seconds("BOT_LEASE_TTL", Duration.ofSeconds(15), Duration.ofSeconds(1), Duration.ofMinutes(10)),
        s.seconds("BOT_CHAT_INTERVAL", Duration.ofSeconds(1), Duration.ZERO, Duration.ofMinutes(1)),
        (int) s.integer("BOT_GLOBAL_RATE", 25, 1, 100_000),
        s.seconds("BOT_STATUS_INTERVAL", Duration.ofSeconds(2), Duration.ZERO, Duration.ofMinutes(10)),
        s.seconds("BOT_PENDING_PHOTO_TTL", Duration.ofMinutes(30), Duration.ofSeconds(1), Duration.ofDays(2)),
        (int) s.integer("BOT_MAX_ACTIVE_JOBS_PER_USER", 1, 1, 1000),
        (int) s.integer("BOT_DAILY_QUOTA", 50, 0, 1_000_000),
        ids(s, "BOT_ALLOWED_USERS"),
        ids(s, "BOT_BANNED_USERS"),
        ids(s, "BOT_ADMIN_IDS"),
        s.choice("BOT_DEFAULT_LANGUAGE", "en", "en", "ru"),
        (int) s.integer("BOT_OUTAGE_BUFFER", 1000, 0, 1_000_000),
        s.string("BOT_INSTANCE_ID", WorkerConfig.defaultWorkerId()),
        outageFile(s));
  }

  /** Where requests kept during a Redis outage are written, so a restart does not lose them; null: memory only. */
  private static String outageFile(Settings s) {
    String f = s.string("BOT_OUTAGE_FILE", "data/bot-outage.jsonl");
    if ("none".equals(f)) {
      return null;
    }
    if (java.nio.file.Files.isDirectory(java.nio.file.Path.of(f))) {
      throw new ConfigException("Invalid setting BOT_OUTAGE_FILE=\"" + f + "\" (from " + s.source("BOT_OUTAGE_FILE")
          + "): it is a directory; expected a file path (its directory is created when needed), or none");
    }
    return f;
  }

  private static Set<Long> ids(Settings s, String name) {
    List<String> raw = s.list(name);
    try {
      return raw.stream().map(Long::parseLong).collect(Collectors.toUnmodifiableSet());
    } catch (NumberFormatException e) {
      throw new ConfigException("Invalid setting " + name + "=\"" + String.join(",", raw) + "\" (from " + s.source(name)
          + "): expected comma-separated Telegram user ids (whole numbers)");
    }
  }

  /** The token, checked; a missing or malformed one stops the bot with one line that never shows the value. */
  public String requireToken() {
    if (token == null || token.isBlank()) {
      throw new ConfigException("Missing setting TELEGRAM_BOT_TOKEN: the bot needs the token @BotFather gave you "
          + "(set it in the environment or in .env)");
    }
    if (!TOKEN.matcher(token).matches()) {
      throw new ConfigException("Invalid setting TELEGRAM_BOT_TOKEN: expected <bot id>:<secret> as given by @BotFather, "
          + "e.g. 123456789:AA... (the value is not shown)");
    }
    return token;
  }

  /** The bot's public numeric id (the part of the token before the colon): names its Redis keys. */
  public String botId() {
    String t = requireToken();
    return t.substring(0, t.indexOf(':'));
  }

  public boolean webhook() {
    return "webhook".equals(mode);
  }

  public boolean isAdmin(long userId) {
    return adminIds.contains(userId);
  }

  /** A copy with another API base URL and token (tests, demo). */
  public BotConfig withApi(URI url, String newToken) {
    return new BotConfig(newToken, url, mode, webhookUrl, webhookSecret, webhookHost, webhookPort, webhookPath, pollTimeout,
        pollGrace, httpTimeout, backoffMax, leaseTtl, chatInterval, globalRate, statusInterval, pendingPhotoTtl,
        maxActiveJobsPerUser, dailyQuota, allowedUsers, bannedUsers, adminIds, defaultLanguage, outageBuffer, instanceId,
        outageFile);
  }

  /** A copy with another instance id (two bot instances in one JVM, in tests). */
  public BotConfig withInstanceId(String id) {
    return new BotConfig(token, apiUrl, mode, webhookUrl, webhookSecret, webhookHost, webhookPort, webhookPath, pollTimeout,
        pollGrace, httpTimeout, backoffMax, leaseTtl, chatInterval, globalRate, statusInterval, pendingPhotoTtl,
        maxActiveJobsPerUser, dailyQuota, allowedUsers, bannedUsers, adminIds, defaultLanguage, outageBuffer, id,
        outageFile);
  }

  @Override
  public String toString() {
    return "BotConfig[api=" + apiUrl + ", mode=" + mode + ", token=" + (token == null ? "unset" : "<hidden>")
        + ", instance=" + instanceId + "]";
  }
}
