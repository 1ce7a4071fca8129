package io.qwenedit.bot;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;

/**
 * How the bot's verticles send to Telegram: every call goes over the event bus to {@link TelegramSenderVerticle},
 * which owns the rate limits and the retries. Resolves with Telegram's {@code result} (a Message as JSON, or
 * {@code {}} for True and for an edit that changed nothing); fails with {@link TelegramApiException}.
 */
public final class Outbox {
  /** How long a reply to a person may take, waits for rate limits and retries included, before it is given up. */
  public static final Duration REPLY_PATIENCE = Duration.ofMinutes(2);
  /** A status edit older than this is pointless: a newer one will follow. */
  public static final Duration EDIT_PATIENCE = Duration.ofSeconds(60);
  /** A result is worth waiting for. */
  public static final Duration RESULT_PATIENCE = Duration.ofMinutes(10);

  private final Vertx vertx;

  public Outbox(Vertx vertx) {
    this.vertx = vertx;
  }

  public Future<JsonObject> sendMessage(long chatId, String text, JsonObject replyMarkup, Long replyTo) {
    return sendMessage(chatId, text, replyMarkup, replyTo, REPLY_PATIENCE);
  }

  public Future<JsonObject> sendMessage(long chatId, String text, JsonObject replyMarkup, Long replyTo, Duration patience) {
    JsonObject p = new JsonObject().put("chat_id", chatId).put("text", text)
        .put("link_preview_options", new JsonObject().put("is_disabled", true));
    markup(p, replyMarkup);
    reply(p, replyTo);
    return call("sendMessage", p, null, null, patience);
  }

  /** Edits a message's text (and buttons); waiting edits of the same message are merged, the newest wins. */
  public Future<JsonObject> editText(long chatId, long messageId, String text, JsonObject replyMarkup) {
    JsonObject p = new JsonObject().put("chat_id", chatId).put("message_id", messageId).put("text", text)
        .put("link_preview_options", new JsonObject().put("is_disabled", true));
    // An empty keyboard removes the buttons; leaving the field out would keep them.
    p.put("reply_markup", replyMarkup == null ? new JsonObject().put("inline_keyboard", new JsonArray()) : replyMarkup);
    return call("editMessageText", p, null, "edit:" + chatId + ":" + messageId, EDIT_PATIENCE);
  }

  public Future<JsonObject> sendPhoto(long chatId, Buffer image, String fileName, String contentType, String caption,
                                      JsonObject replyMarkup, Long replyTo) {
    JsonObject p = new JsonObject().put("chat_id", chatId);
    if (caption != null) {
      p.put("caption", caption);
    }
    markup(p, replyMarkup);
    reply(p, replyTo);
    return call("sendPhoto", p, upload("photo", fileName, contentType, image), null, RESULT_PATIENCE);
  }

  public Future<JsonObject> sendDocument(long chatId, Buffer file, String fileName, String contentType, String caption,
                                         JsonObject replyMarkup, Long replyTo) {
    JsonObject p = new JsonObject().put("chat_id", chatId).put("disable_content_type_detection", true);
    if (caption != null) {
      p.put("caption", caption);
    }
    markup(p, replyMarkup);
    reply(p, replyTo);
    return call("sendDocument", p, upload("document", fileName, contentType, file), null, RESULT_PATIENCE);
  }

  /** Always answer a button press, so the person's spinner stops (with a short note when text is given). */
  public Future<JsonObject> answerCallback(String callbackQueryId, String text, boolean alert) {
    JsonObject p = new JsonObject().put("callback_query_id", callbackQueryId);
    if (text != null) {
      p.put("text", text).put("show_alert", alert);
    }
    return call("answerCallbackQuery", p, null, null, Duration.ofSeconds(30));
  }

  /** Any other method (setMyCommands, deleteWebhook...). */
  public Future<JsonObject> call(String method, JsonObject params) {
    return call(method, params, null, null, REPLY_PATIENCE);
  }

  private static JsonObject upload(String field, String fileName, String contentType, Buffer data) {
    return new JsonObject().put("field", field).put("name", fileName).put("type", contentType).put("data", data);
  }

  private static void markup(JsonObject p, JsonObject replyMarkup) {
    if (replyMarkup != null) {
      p.put("reply_markup", replyMarkup);
    }
  }

  private static void reply(JsonObject p, Long replyTo) {
    if (replyTo != null) {
      // allow_sending_without_reply: a deleted original must not make the answer fail.
      p.put("reply_parameters", new JsonObject().put("message_id", replyTo).put("allow_sending_without_reply", true));
    }
  }

  Future<JsonObject> call(String method, JsonObject params, JsonObject upload, String coalesceKey, Duration patience) {
    JsonObject req = new JsonObject().put("method", method).put("params", params).put("patience_ms", patience.toMillis());
    if (upload != null) {
      req.put("upload", upload);
    }
    if (coalesceKey != null) {
      req.put("coalesce", coalesceKey);
    }
    DeliveryOptions opts = new DeliveryOptions().setLocalOnly(true).setSendTimeout(patience.toMillis() + 60_000);
    return vertx.eventBus().<JsonObject>request(BotAddresses.SEND, req, opts)
        .recover(err -> Future.failedFuture(TelegramApiException.network("sender did not answer: " + err.getMessage())))
        .compose(msg -> {
          JsonObject answer = msg.body();
          if (Boolean.TRUE.equals(answer.getBoolean("ok"))) {
            Object result = answer.getValue("result");
            return Future.succeededFuture(result instanceof JsonObject j ? j : new JsonObject());
          }
          return Future.failedFuture(TelegramApiException.fromResponse(answer.getInteger("error_code", 0), answer));
        });
  }

  /** An inline keyboard of one row: label, callback data, label, callback data... */
  public static JsonObject buttons(String... labelsAndData) {
    JsonArray row = new JsonArray();
    for (int i = 0; i + 1 < labelsAndData.length; i += 2) {
      row.add(new JsonObject().put("text", labelsAndData[i]).put("callback_data", labelsAndData[i + 1]));
    }
    return new JsonObject().put("inline_keyboard", new JsonArray().add(row));
  }
}
