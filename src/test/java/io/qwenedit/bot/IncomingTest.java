package io.qwenedit.bot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

class IncomingTest {
  private static final long LIMIT = 20L << 20;

  private static JsonObject message(JsonObject fields) {
    JsonObject m = new JsonObject().put("message_id", 7).put("date", 0)
        .put("from", new JsonObject().put("id", 42).put("language_code", "ru"))
        .put("chat", new JsonObject().put("id", 42).put("type", "private"));
    m.mergeIn(fields);
    return new JsonObject().put("update_id", 1000).put("message", m);
  }

  private static JsonObject size(String id, int w, int h, long bytes) {
    return new JsonObject().put("file_id", id).put("file_unique_id", "u" + id).put("width", w).put("height", h).put("file_size", bytes);
  }

  @Test
  void aPhotoTakesItsLargestSizeWhateverTheOrder() {
    JsonArray sizes = new JsonArray().add(size("big", 1280, 960, 200_000)).add(size("small", 90, 67, 2_000))
        .add(size("mid", 320, 240, 20_000));
    Incoming in = Incoming.parse(message(new JsonObject().put("photo", sizes).put("caption", "  make it purple ")), LIMIT);
    Incoming.Image img = assertInstanceOf(Incoming.Image.class, in.intent());
    assertEquals("big", img.file().fileId());
    assertEquals("make it purple", img.caption());
    assertEquals(42, in.userId());
    assertEquals(7, in.messageId());
    assertEquals("ru", in.languageCode());
    assertEquals(1000, in.updateId());
  }

  @Test
  void imageFilesAreAcceptedOtherFilesExplained() {
    JsonObject png = new JsonObject().put("file_id", "d1").put("file_name", "cat.png").put("mime_type", "image/png").put("file_size", 1000);
    assertInstanceOf(Incoming.Image.class, Incoming.parse(message(new JsonObject().put("document", png)), LIMIT).intent());
    JsonObject noMime = new JsonObject().put("file_id", "d2").put("file_name", "cat.JPG").put("file_size", 1000);
    assertInstanceOf(Incoming.Image.class, Incoming.parse(message(new JsonObject().put("document", noMime)), LIMIT).intent());
    JsonObject pdf = new JsonObject().put("file_id", "d3").put("file_name", "a.pdf").put("mime_type", "application/pdf");
    Incoming.Refused r = assertInstanceOf(Incoming.Refused.class, Incoming.parse(message(new JsonObject().put("document", pdf)), LIMIT).intent());
    assertEquals("input_document", r.textKey());
    assertEquals("application/pdf", r.kind());
    JsonObject heic = new JsonObject().put("file_id", "d4").put("file_name", "a.heic").put("mime_type", "image/heic");
    assertEquals("input_image_format", ((Incoming.Refused) Incoming.parse(message(new JsonObject().put("document", heic)), LIMIT).intent()).textKey());
    JsonObject gif = new JsonObject().put("file_id", "d5").put("file_name", "a.gif").put("mime_type", "image/gif");
    assertEquals("input_video", ((Incoming.Refused) Incoming.parse(message(new JsonObject().put("document", gif)), LIMIT).intent()).textKey());
  }

  @Test
  void tooLargeFilesAreRefusedBeforeAnyDownload() {
    JsonObject big = new JsonObject().put("file_id", "d").put("file_name", "a.png").put("mime_type", "image/png").put("file_size", 30L << 20);
    Incoming.TooLarge t = assertInstanceOf(Incoming.TooLarge.class, Incoming.parse(message(new JsonObject().put("document", big)), LIMIT).intent());
    assertEquals(30L << 20, t.size());
    // The queue's own limit applies when it is lower than Telegram's 20 MB.
    JsonArray sizes = new JsonArray().add(size("p", 4000, 3000, 6L << 20));
    assertInstanceOf(Incoming.TooLarge.class, Incoming.parse(message(new JsonObject().put("photo", sizes)), 5L << 20).intent());
  }

  @Test
  void stickersVideosAndVoiceAreExplained() {
    assertEquals("input_sticker", ((Incoming.Refused) Incoming.parse(message(new JsonObject().put("sticker", new JsonObject())), LIMIT).intent()).textKey());
    assertEquals("input_video", ((Incoming.Refused) Incoming.parse(message(new JsonObject().put("video", new JsonObject())), LIMIT).intent()).textKey());
    assertEquals("input_video", ((Incoming.Refused) Incoming.parse(message(new JsonObject().put("animation", new JsonObject())), LIMIT).intent()).textKey());
    assertEquals("input_audio", ((Incoming.Refused) Incoming.parse(message(new JsonObject().put("voice", new JsonObject())), LIMIT).intent()).textKey());
    assertEquals("input_other", ((Incoming.Refused) Incoming.parse(message(new JsonObject().put("location", new JsonObject())), LIMIT).intent()).textKey());
  }

  @Test
  void commandsLoseTheirBotNameAndKeepTheirArguments() {
    Incoming.Command c = assertInstanceOf(Incoming.Command.class,
        Incoming.parse(message(new JsonObject().put("text", "/Ban@QwenEditBot  12345 ")), LIMIT).intent());
    assertEquals("ban", c.name());
    assertEquals("12345", c.args());
    assertInstanceOf(Incoming.Text.class, Incoming.parse(message(new JsonObject().put("text", "make it blue")), LIMIT).intent());
    assertInstanceOf(Incoming.Ignored.class, Incoming.parse(message(new JsonObject().put("new_chat_members", new JsonArray())), LIMIT).intent());
  }

  @Test
  void buttonPressesAndMembershipChanges() {
    JsonObject cb = new JsonObject().put("update_id", 5).put("callback_query", new JsonObject().put("id", "cb1").put("data", "a:abc")
        .put("from", new JsonObject().put("id", 9)).put("message", new JsonObject().put("message_id", 3)
            .put("chat", new JsonObject().put("id", 9).put("type", "private"))));
    Incoming in = Incoming.parse(cb, LIMIT);
    Incoming.Callback c = assertInstanceOf(Incoming.Callback.class, in.intent());
    assertEquals("a:abc", c.data());
    assertEquals(9, in.chatId());
    JsonObject kicked = new JsonObject().put("update_id", 6).put("my_chat_member", new JsonObject()
        .put("chat", new JsonObject().put("id", 9).put("type", "private")).put("from", new JsonObject().put("id", 9))
        .put("new_chat_member", new JsonObject().put("status", "kicked")));
    assertEquals("kicked", ((Incoming.MemberStatus) Incoming.parse(kicked, LIMIT).intent()).status());
    Incoming edited = Incoming.parse(new JsonObject().put("update_id", 7).put("edited_message", new JsonObject()), LIMIT);
    assertInstanceOf(Incoming.Ignored.class, edited.intent());
    assertEquals(0, edited.chatId());
  }

  @Test
  void albumsCarryTheirGroupId() {
    JsonArray sizes = new JsonArray().add(size("p", 800, 600, 1000));
    Incoming.Image img = (Incoming.Image) Incoming.parse(message(new JsonObject().put("photo", sizes).put("media_group_id", "g1")), LIMIT).intent();
    assertEquals("g1", img.mediaGroupId());
    assertNull(img.caption());
  }
}
