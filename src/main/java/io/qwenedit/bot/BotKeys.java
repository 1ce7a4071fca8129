package io.qwenedit.bot;

/**
 * Every Redis key the bot uses, under {@code <prefix>tg:<bot id>:} so two bots can share one Redis. A person's keys
 * share the hash tag {@code {<user id>}} and the poller's share {@code {poll}}, so each script touches one slot.
 * Documented (with time-to-live and bounds) in docs/redis-keys.md.
 */
public final class BotKeys {
  private final String p;
  private final String botId;

  public BotKeys(String prefix, String botId) {
    this.p = prefix + "tg:" + botId + ":";
    this.botId = botId;
  }

  public String base() {
    return p;
  }

  /** The next getUpdates offset, saved once the updates before it were handled. */
  public String offset() {
    return p + "{poll}:offset";
  }

  /** Update ids handled recently (duplicates are skipped); trimmed by age and count. */
  public String seen() {
    return p + "{poll}:seen";
  }

  /** Written (with a 5 s life) to learn whether Redis takes writes again before kept requests are replayed. */
  public String probe() {
    return p + "probe";
  }

  /** Which instance is the active one (polls, edits status messages, delivers results). */
  public String leader() {
    return p + "{poll}:leader";
  }

  public String pending(long userId) {
    return p + "user:{" + userId + "}:pending";
  }

  public String last(long userId) {
    return p + "user:{" + userId + "}:last";
  }

  public String active(long userId) {
    return p + "user:{" + userId + "}:active";
  }

  public String quota(long userId, String day) {
    return p + "user:{" + userId + "}:quota:" + day;
  }

  public String ban(long userId) {
    return p + "ban:" + userId;
  }

  public String blocked(long chatId) {
    return p + "blocked:" + chatId;
  }

  public String migrated(long chatId) {
    return p + "migrated:" + chatId;
  }

  public String album(String mediaGroupId) {
    return p + "album:" + mediaGroupId;
  }

  /** Telegram jobs not yet delivered (their status messages are kept up to date). */
  public String jobs() {
    return p + "jobs";
  }

  /** The consumer group this bot reads the queue's outcome stream with. */
  public String consumerGroup() {
    return "tg-" + botId;
  }
}
