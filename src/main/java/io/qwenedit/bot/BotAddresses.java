package io.qwenedit.bot;

/** The event-bus addresses the bot's verticles talk on (all local to one process). */
public final class BotAddresses {
  /** Request: an outgoing Bot API call ({@link Outbox}); reply: Telegram's answer in its own JSON shape. */
  public static final String SEND = "qwenedit.bot.send";
  /** Request: one Telegram update to handle; the reply means it was handled durably (the offset may move past it). */
  public static final String UPDATE = "qwenedit.bot.update";
  /** Publish: {@code {type: blocked|unblocked|migrated, chat, to}} learnt from Telegram's answers. */
  public static final String CHAT_EVENT = "qwenedit.bot.chat-event";
  /** Send: {@code {id}} a job whose status message should be brought up to date now. */
  public static final String STATUS_REFRESH = "qwenedit.bot.status-refresh";

  private BotAddresses() {}
}
