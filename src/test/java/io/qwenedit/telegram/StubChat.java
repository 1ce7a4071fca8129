package io.qwenedit.telegram;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/** A chat as the Telegram stub keeps it: every message in it, the person's and the bot's, as a person would see them. */
public final class StubChat {
  /** One message in the chat. Bot messages keep their edit history. */
  public static final class Message {
    public final long id;
    public final boolean fromBot;
    public final long at;
    volatile String text;
    volatile String caption;
    volatile JsonObject replyMarkup;
    volatile Long replyTo;
    volatile String kind; // text, photo, document, sticker, video, ...
    volatile Buffer file;
    volatile String fileName;
    volatile String mimeType;
    final List<String> history = new ArrayList<>();

    Message(long id, boolean fromBot, String kind) {
      this.id = id;
      this.fromBot = fromBot;
      this.kind = kind;
      this.at = System.currentTimeMillis();
    }

    public String text() {
      return text;
    }

    public String caption() {
      return caption;
    }

    /** What the person reads: the text, or the caption of a photo or file. */
    public String visible() {
      return text != null ? text : caption == null ? "" : caption;
    }

    public String kind() {
      return kind;
    }

    public Buffer file() {
      return file;
    }

    public String fileName() {
      return fileName;
    }

    public String mimeType() {
      return mimeType;
    }

    public Long replyTo() {
      return replyTo;
    }

    /** Every text this message showed, oldest first (the first is what was sent, then each edit). */
    public synchronized List<String> history() {
      return List.copyOf(history);
    }

    /** The inline buttons' labels and callback data, row by row flattened: [label, data, label, data, ...]. */
    public List<String> buttons() {
      List<String> out = new ArrayList<>();
      if (replyMarkup == null) {
        return out;
      }
      JsonArray rows = replyMarkup.getJsonArray("inline_keyboard", new JsonArray());
      for (Object row : rows) {
        for (Object b : (JsonArray) row) {
          JsonObject btn = (JsonObject) b;
          out.add(btn.getString("text"));
          out.add(btn.getString("callback_data"));
        }
      }
      return out;
    }

    /** The callback data of the button whose label contains {@code label}, or null. */
    public String buttonData(String label) {
      List<String> b = buttons();
      for (int i = 0; i + 1 < b.size(); i += 2) {
        if (b.get(i).contains(label)) {
          return b.get(i + 1);
        }
      }
      return null;
    }

    @Override
    public String toString() {
      return (fromBot ? "bot" : "user") + "#" + id + " " + kind + ": " + visible().replace("\n", " / ");
    }
  }

  public final long id;
  public final String type;
  final List<Message> messages = new ArrayList<>();
  volatile Long migratedTo;

  StubChat(long id, String type) {
    this.id = id;
    this.type = type;
  }

  /** Messages the bot sent here, oldest first. */
  public synchronized List<Message> botMessages() {
    return messages.stream().filter(m -> m.fromBot).toList();
  }

  public synchronized List<Message> all() {
    return List.copyOf(messages);
  }

  synchronized Message find(long messageId) {
    for (Message m : messages) {
      if (m.id == messageId) {
        return m;
      }
    }
    return null;
  }

  synchronized void add(Message m) {
    messages.add(m);
  }

  JsonObject json() {
    JsonObject c = new JsonObject().put("id", id).put("type", type);
    if ("private".equals(type)) {
      c.put("first_name", "User" + id);
    } else {
      c.put("title", "Group " + id);
    }
    return c;
  }
}
