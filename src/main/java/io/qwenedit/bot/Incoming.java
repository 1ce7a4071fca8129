package io.qwenedit.bot;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Locale;
import java.util.Set;

/**
 * One Telegram update, read into what the bot must do with it. Pure: no I/O, tested without Vert.x.
 *
 * @param chatId 0 when the update has no chat (it is then ignored)
 * @param languageCode the person's Telegram language ("ru", "en-US", ...) or null
 */
public record Incoming(long updateId, long chatId, String chatType, long userId, String languageCode, long messageId,
                       Intent intent) {

  /** A picture the person sent: a photo (largest size chosen) or an image file. */
  public record FileRef(String fileId, String kind, long size, String mimeType, String fileName, int width, int height) {
    public JsonObject toJson() {
      return new JsonObject().put("file_id", fileId).put("kind", kind).put("size", size).put("mime", mimeType)
          .put("name", fileName).put("width", width).put("height", height);
    }

    public static FileRef fromJson(JsonObject j) {
      return new FileRef(j.getString("file_id"), j.getString("kind", "photo"), j.getLong("size", -1L), j.getString("mime"),
          j.getString("name"), j.getInteger("width", 0), j.getInteger("height", 0));
    }
  }

  /** What the update asks for. */
  public sealed interface Intent {}

  /** {@code /name args}; the name is lower-case, without a {@code @botname} suffix. */
  public record Command(String name, String args) implements Intent {}

  /** A picture, with its caption (null: none) and album id (null: not part of an album). */
  public record Image(FileRef file, String caption, String mediaGroupId) implements Intent {}

  /** Plain text (an instruction for a waiting photo, or a stray message). */
  public record Text(String text) implements Intent {}

  /** Something the bot cannot edit; {@code textKey} is the explanation to send, {@code kind} fills {kind}. */
  public record Refused(String textKey, String kind) implements Intent {}

  /** A picture too large to fetch from Telegram or to accept. */
  public record TooLarge(long size, long max) implements Intent {}

  /** A press on one of the bot's buttons. */
  public record Callback(String callbackId, String data, Long messageId) implements Intent {}

  /** The bot's membership in the chat changed: {@code kicked} means the person blocked the bot. */
  public record MemberStatus(String status) implements Intent {}

  /** Nothing to do (edited messages, service messages, updates of kinds we did not ask for). */
  public record Ignored(String why) implements Intent {}

  /** Telegram lets bots download at most 20 MB through getFile. */
  public static final long TELEGRAM_DOWNLOAD_LIMIT = 20L << 20;
  private static final Set<String> IMAGE_TYPES = Set.of("image/png", "image/jpeg", "image/jpg", "image/pjpeg", "image/webp");
  private static final Set<String> IMAGE_EXTENSIONS = Set.of("png", "jpg", "jpeg", "webp");

  /** The update types the bot asks Telegram for (explicit: an omitted list keeps whatever was set before). */
  public static final JsonArray ALLOWED_UPDATES = new JsonArray().add("message").add("callback_query").add("my_chat_member");

  /**
   * Reads an update.
   *
   * @param maxImageBytes the largest picture accepted (the queue's limit; Telegram's 20 MB download limit caps it)
   */
  public static Incoming parse(JsonObject update, long maxImageBytes) {
    long updateId = update.getLong("update_id", -1L);
    JsonObject msg = update.getJsonObject("message");
    if (msg != null) {
      return fromMessage(updateId, msg, maxImageBytes);
    }
    JsonObject cq = update.getJsonObject("callback_query");
    if (cq != null) {
      JsonObject from = cq.getJsonObject("from", new JsonObject());
      JsonObject m = cq.getJsonObject("message");
      long chat = m == null ? from.getLong("id", 0L) : m.getJsonObject("chat", new JsonObject()).getLong("id", 0L);
      Long messageId = m == null ? null : m.getLong("message_id");
      return new Incoming(updateId, chat, m == null ? "private" : m.getJsonObject("chat", new JsonObject()).getString("type"),
          from.getLong("id", 0L), from.getString("language_code"), messageId == null ? 0 : messageId,
          new Callback(cq.getString("id"), cq.getString("data", ""), messageId));
    }
    JsonObject member = update.getJsonObject("my_chat_member");
    if (member != null) {
      JsonObject chat = member.getJsonObject("chat", new JsonObject());
      JsonObject from = member.getJsonObject("from", new JsonObject());
      String status = member.getJsonObject("new_chat_member", new JsonObject()).getString("status", "");
      return new Incoming(updateId, chat.getLong("id", 0L), chat.getString("type"), from.getLong("id", 0L),
          from.getString("language_code"), 0, new MemberStatus(status));
    }
    String kind = update.fieldNames().stream().filter(f -> !"update_id".equals(f)).findFirst().orElse("empty");
    return new Incoming(updateId, 0, null, 0, null, 0, new Ignored(kind));
  }

  private static Incoming fromMessage(long updateId, JsonObject msg, long maxImageBytes) {
    JsonObject chat = msg.getJsonObject("chat", new JsonObject());
    JsonObject from = msg.getJsonObject("from", new JsonObject());
    long chatId = chat.getLong("id", 0L);
    long userId = from.getLong("id", chatId);
    Intent intent = intentOf(msg, Math.min(maxImageBytes, TELEGRAM_DOWNLOAD_LIMIT));
    return new Incoming(updateId, chatId, chat.getString("type", "private"), userId, from.getString("language_code"),
        msg.getLong("message_id", 0L), intent);
  }

  static Intent intentOf(JsonObject msg, long maxBytes) {
    String caption = blankToNull(msg.getString("caption"));
    String group = msg.getString("media_group_id");
    JsonArray photo = msg.getJsonArray("photo");
    if (photo != null && !photo.isEmpty()) {
      JsonObject best = largest(photo);
      FileRef f = new FileRef(best.getString("file_id"), "photo", best.getLong("file_size", -1L), "image/jpeg", null,
          best.getInteger("width", 0), best.getInteger("height", 0));
      return f.size() > maxBytes ? new TooLarge(f.size(), maxBytes) : new Image(f, caption, group);
    }
    JsonObject doc = msg.getJsonObject("document");
    if (doc != null) {
      return document(doc, caption, group, maxBytes);
    }
    if (msg.containsKey("sticker")) {
      return new Refused("input_sticker", "sticker");
    }
    if (msg.containsKey("video") || msg.containsKey("animation") || msg.containsKey("video_note")) {
      return new Refused("input_video", "video");
    }
    if (msg.containsKey("voice") || msg.containsKey("audio")) {
      return new Refused("input_audio", "audio");
    }
    String text = msg.getString("text");
    if (text != null) {
      String t = text.strip();
      if (t.startsWith("/") && t.length() > 1) {
        int sp = indexOfWhitespace(t);
        String name = (sp < 0 ? t.substring(1) : t.substring(1, sp)).toLowerCase(Locale.ROOT);
        int at = name.indexOf('@');
        if (at >= 0) {
          name = name.substring(0, at);
        }
        return new Command(name, sp < 0 ? "" : t.substring(sp).strip());
      }
      return t.isEmpty() ? new Ignored("empty text") : new Text(t);
    }
    if (msg.containsKey("new_chat_members") || msg.containsKey("left_chat_member") || msg.containsKey("pinned_message")
        || msg.containsKey("group_chat_created") || msg.containsKey("migrate_to_chat_id") || msg.containsKey("migrate_from_chat_id")) {
      return new Ignored("service message");
    }
    return new Refused("input_other", "other");
  }

  private static Intent document(JsonObject doc, String caption, String group, long maxBytes) {
    String mime = doc.getString("mime_type");
    String name = doc.getString("file_name");
    String ext = name != null && name.contains(".") ? name.substring(name.lastIndexOf('.') + 1).toLowerCase(Locale.ROOT) : null;
    String m = mime == null ? null : mime.toLowerCase(Locale.ROOT);
    boolean image = (m != null && IMAGE_TYPES.contains(m))
        || ((m == null || "application/octet-stream".equals(m)) && ext != null && IMAGE_EXTENSIONS.contains(ext));
    if (!image) {
      String kind = m != null ? m : ext != null ? "." + ext : "unknown type";
      if (m != null && (m.startsWith("video/") || "image/gif".equals(m))) {
        return new Refused("input_video", kind); // a GIF file is an animation to Telegram users
      }
      if (m != null && m.startsWith("image/")) {
        return new Refused("input_image_format", kind);
      }
      if (m != null && m.startsWith("audio/")) {
        return new Refused("input_audio", kind);
      }
      return new Refused("input_document", kind);
    }
    long size = doc.getLong("file_size", -1L);
    if (size > maxBytes) {
      return new TooLarge(size, maxBytes);
    }
    return new Image(new FileRef(doc.getString("file_id"), "document", size, mime, name, 0, 0), caption, group);
  }

  /** The biggest picture of a photo's sizes; Telegram does not promise their order. */
  static JsonObject largest(JsonArray sizes) {
    JsonObject best = null;
    long bestArea = -1;
    for (Object o : sizes) {
      JsonObject s = (JsonObject) o;
      long area = (long) s.getInteger("width", 0) * s.getInteger("height", 0);
      if (area > bestArea || (area == bestArea && s.getLong("file_size", 0L) > best.getLong("file_size", 0L))) {
        best = s;
        bestArea = area;
      }
    }
    return best;
  }

  private static int indexOfWhitespace(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (Character.isWhitespace(s.charAt(i))) {
        return i;
      }
    }
    return -1;
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.strip();
  }

  /** The person's private chat is the only kind where one person talks to the bot alone. */
  public boolean privateChat() {
    return "private".equals(chatType);
  }
}
