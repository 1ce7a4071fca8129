package io.qwenedit.bot;

import static io.qwenedit.testing.Await.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qwenedit.queue.ImageInfo;
import io.qwenedit.queue.Job;
import io.qwenedit.telegram.StubChat;
import io.qwenedit.telegram.TelegramStub;
import io.qwenedit.testing.Await;
import io.qwenedit.testing.Images;
import io.qwenedit.testing.RedisServerExtension;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** What a person experiences, end to end: the Telegram stub, the bot, the real queue and a worker on it. */
class BotConversationTest extends BotEndToEnd {
  @RegisterExtension
  static final RedisServerExtension REDIS = new RedisServerExtension();
  private static final Duration WAIT = Duration.ofSeconds(15);

  @Override
  protected String redisUrl() {
    return REDIS.url();
  }

  @Override
  protected int workerSteps() {
    return 4;
  }

  @Override
  protected int workerStepMs() {
    return 120;
  }

  private StubChat.Message resultOf(JsonObject user) {
    return telegram.awaitBotMessage(user.getLong("id"), "the result picture", WAIT,
        m -> "photo".equals(m.kind()) || "document".equals(m.kind()));
  }

  @Test
  void photoWithCaptionIsQueuedShowsProgressAndComesBackAsAPhoto() {
    startAll();
    JsonObject ann = telegram.user(1001, "Ann", "en");
    long photoMsg = telegram.sendPhoto(ann, Images.jpeg(640, 480), "make the sky purple");

    StubChat.Message result = resultOf(ann);
    assertEquals("photo", result.kind());
    ImageInfo info = ImageInfo.sniff(result.file().getBytes());
    assertNotNull(info, "a real picture came back");
    assertEquals(96, info.width());
    assertTrue(result.caption().contains("make the sky purple"), result.caption());
    assertEquals(photoMsg, result.replyTo(), "the result answers the person's photo");
    assertNotNull(result.buttonData("Again"));
    assertNotNull(result.buttonData("Full quality"));

    // One status message, edited as the job moved: received -> queued -> editing (with progress) -> done.
    StubChat.Message status = telegram.awaitBotMessage(1001, "the final status", WAIT, m -> m.visible().startsWith("✅ Done"));
    List<String> seen = status.history();
    assertTrue(seen.get(0).contains("Got it"), seen.toString());
    assertTrue(seen.stream().anyMatch(t -> t.contains("%")), "progress was shown: " + seen);
    assertEquals("✅ Done.", seen.get(seen.size() - 1));
    for (int i = 1; i < seen.size(); i++) {
      assertFalse(seen.get(i).equals(seen.get(i - 1)), "the same text is never sent twice: " + seen);
    }
    assertTrue(status.buttons().isEmpty(), "no Cancel button once done");
    assertEquals(1, telegram.botMessages(ann).stream().filter(m -> "photo".equals(m.kind())).count(), "exactly one result");

    // The job names the person, their chat and message, and the status message.
    Job job = await(bot.queue().get(worker.completed().get(0)));
    JsonObject src = job.source();
    assertEquals("telegram", src.getString("kind"));
    assertEquals(1001L, src.getLong("chat"));
    assertEquals(1001L, src.getLong("user"));
    assertEquals(photoMsg, src.getLong("message"));
    assertEquals(status.id, src.getLong("status_message"));
    assertEquals("en", src.getString("lang"));
    assertEquals("make the sky purple", job.prompt());
  }

  @Test
  void photoThenTextMakesOneRequest() {
    startAll();
    JsonObject bob = telegram.user(1002, "Bob", "en");
    long photoMsg = telegram.sendPhoto(bob, Images.png(300, 200), null);
    telegram.awaitBotMessage(1002, "the question for an instruction", WAIT, m -> m.visible().contains("Now send me what to change"));
    assertNotNull(await(bot.queue().redis().send(io.vertx.redis.client.Command.GET, bot.keys().pending(1002))),
        "the waiting photo is kept in Redis");

    telegram.sendText(bob, "remove the man on the left");
    StubChat.Message result = resultOf(bob);
    assertEquals(photoMsg, result.replyTo());
    assertEquals("remove the man on the left", await(bot.queue().get(worker.completed().get(0))).prompt());
    Await.until("the waiting photo is forgotten", WAIT,
        () -> await(bot.queue().redis().send(io.vertx.redis.client.Command.EXISTS, bot.keys().pending(1002))).toInteger() == 0);
  }

  @Test
  void textWithoutAPhotoAsksForOne() {
    startAll();
    JsonObject cy = telegram.user(1003, "Cy", "en");
    telegram.sendText(cy, "make it brighter");
    StubChat.Message m = telegram.awaitBotMessage(1003, "the request for a photo", WAIT, x -> x.visible().contains("Send me a photo first"));
    assertNotNull(m);
    assertEquals(0L, await(bot.queue().depth()));
  }

  @Test
  void imageSentAsAFileWorksLikeAPhoto() {
    startAll();
    JsonObject di = telegram.user(1004, "Di", "en");
    Buffer png = Images.png(200, 150);
    telegram.sendDocument(di, png, png.length(), "cat.png", "image/png", "add a hat");
    StubChat.Message result = resultOf(di);
    assertEquals("photo", result.kind());
    Job job = await(bot.queue().get(worker.completed().get(0)));
    assertEquals("png", job.inputInfo().getString("format"), "the file's bytes were queued as they are");
  }

  @Test
  void wrongInputsGetAnAnswerSayingWhatIsAccepted() {
    startAll();
    JsonObject ed = telegram.user(1005, "Ed", "en");
    telegram.sendDocument(ed, Buffer.buffer("%PDF-1.4 fake"), 13, "report.pdf", "application/pdf", "make it pretty");
    telegram.awaitBotMessage(1005, "PDF refused", WAIT, m -> m.visible().contains("can't edit this file (application/pdf)"));
    telegram.sendSticker(ed);
    telegram.awaitBotMessage(1005, "sticker refused", WAIT, m -> m.visible().contains("Stickers can't be edited"));
    telegram.sendVideo(ed, "make it blue");
    telegram.awaitBotMessage(1005, "video refused", WAIT, m -> m.visible().contains("not videos"));
    telegram.sendDocument(ed, null, 30L << 20, "huge.png", "image/png", "make it smaller");
    telegram.awaitBotMessage(1005, "30 MB refused", WAIT, m -> m.visible().contains("30.0 MB") && m.visible().contains("20.0 MB"));
    telegram.sendPhoto(ed, Images.jpeg(100, 100), "x".repeat(1001));
    telegram.awaitBotMessage(1005, "caption too long", WAIT, m -> m.visible().contains("1001 characters long; the limit is 1000"));
    telegram.sendDocument(ed, Buffer.buffer("not really a png"), 16, "fake.png", "image/png", "edit");
    telegram.awaitBotMessage(1005, "not a picture", WAIT, m -> m.visible().contains("isn't a picture I can read"));
    assertEquals(0L, await(bot.queue().depth()), "nothing was queued");
    assertTrue(telegram.calls("getFile").size() <= 1, "the 30 MB file and the long caption were refused before any download");
    assertTrue(worker.taken().isEmpty());
  }

  @Test
  void cancelWhileQueuedRemovesTheJob() {
    startAll();
    worker.pause(true);
    JsonObject fay = telegram.user(1006, "Fay", "en");
    telegram.sendPhoto(fay, Images.jpeg(320, 240), "turn it into a painting");
    StubChat.Message status = telegram.awaitBotMessage(1006, "queued with a Cancel button", WAIT,
        m -> m.visible().contains("In the queue") && m.buttonData("Cancel") != null);
    telegram.press(fay, status, status.buttonData("Cancel"));
    Await.until("the press is answered", WAIT, () -> telegram.callbackAnswers().stream()
        .anyMatch(a -> "Cancelled.".equals(a.getString("text"))));
    telegram.awaitBotMessage(1006, "status says cancelled", WAIT, m -> m.id == status.id && m.visible().equals("⏹ Cancelled."));
    worker.pause(false);
    String id = await(bot.queue().redis().send(io.vertx.redis.client.Command.GET, bot.keys().last(1006))).toString();
    assertEquals("cancelled", await(bot.queue().get(id)).state().wire());
    sleepMs(500);
    assertTrue(worker.taken().isEmpty(), "a cancelled job is never run");
    assertTrue(telegram.botMessages(fay).stream().noneMatch(m -> "photo".equals(m.kind())));
  }

  @Test
  void cancelWhileRunningStopsTheWorker() {
    startAll();
    worker.holdJobs(true);
    JsonObject gus = telegram.user(1007, "Gus", "en");
    telegram.sendPhoto(gus, Images.jpeg(320, 240), "add snow");
    Await.until("the worker took it", WAIT, () -> !worker.taken().isEmpty());
    telegram.sendText(gus, "/cancel");
    telegram.awaitBotMessage(1007, "stopping", WAIT, m -> m.visible().contains("Stopping the edit that is running"));
    telegram.awaitBotMessage(1007, "status says cancelled", WAIT, m -> m.visible().equals("⏹ Cancelled."));
    assertEquals("cancelled", await(bot.queue().get(worker.taken().get(0))).state().wire());
    assertTrue(worker.completed().isEmpty());
  }

  @Test
  void againMakesANewJobWithTheSamePhotoAndInstructionAndANewSeed() {
    startAll();
    JsonObject hal = telegram.user(1008, "Hal", "en");
    telegram.sendPhoto(hal, Images.jpeg(400, 300), "make it night");
    StubChat.Message first = resultOf(hal);
    telegram.press(hal, first, first.buttonData("Again"));
    Await.until("a second result", WAIT, () -> telegram.botMessages(hal).stream().filter(m -> "photo".equals(m.kind())).count() == 2);
    Job a = await(bot.queue().get(worker.completed().get(0)));
    Job b = await(bot.queue().get(worker.completed().get(1)));
    assertEquals(a.prompt(), b.prompt());
    assertEquals(await(bot.queue().image(a.inputRef())), await(bot.queue().image(b.inputRef())), "the same picture");
    assertNotNull(b.params().getLong("seed"));
    assertFalse(b.params().getLong("seed").equals(a.paramsOrEmpty().getLong("seed")), "a new seed");
    assertEquals(a.source().getLong("message"), b.source().getLong("message"), "answers the same photo");
  }

  @Test
  void againPressedTwiceStillKeepsTheActiveJobLimit() {
    startAll();
    JsonObject hal = telegram.user(1014, "Hal", "en");
    telegram.sendPhoto(hal, Images.jpeg(400, 300), "make it night");
    StubChat.Message first = resultOf(hal);
    worker.holdJobs(true);
    telegram.press(hal, first, first.buttonData("Again"));
    telegram.press(hal, first, first.buttonData("Again"));
    telegram.awaitBotMessage(1014, "the limit", WAIT, m -> m.visible().startsWith("You already have 1 edit(s) in progress"));
    Await.until("the accepted one runs", WAIT, () -> worker.taken().size() == 2);
    assertEquals(0L, await(bot.queue().depth()), "the second press queued nothing");
    worker.release();
    Await.until("its result", WAIT, () -> telegram.botMessages(hal).stream().filter(m -> "photo".equals(m.kind())).count() == 2);
  }

  @Test
  void fullQualityButtonSendsTheResultAsAFile() {
    startAll();
    worker.result(() -> Images.png(120, 80));
    JsonObject ivy = telegram.user(1010, "Ivy", "en");
    telegram.sendPhoto(ivy, Images.jpeg(400, 300), "sharpen");
    StubChat.Message photo = resultOf(ivy);
    telegram.press(ivy, photo, photo.buttonData("Full quality"));
    StubChat.Message file = telegram.awaitBotMessage(1010, "the file", WAIT, m -> "document".equals(m.kind()));
    Job job = await(bot.queue().get(worker.completed().get(0)));
    assertEquals(await(bot.queue().image(job.resultRef())), file.file(), "the stored result, byte for byte");
    assertTrue(file.fileName().endsWith(".png"));
  }

  @Test
  void resultTooBigForAPhotoComesAsAFile() {
    startAll();
    worker.result(() -> Images.png(4000, 150)); // ratio > 20: Telegram refuses it as a photo
    JsonObject jo = telegram.user(1011, "Jo", "en");
    telegram.sendPhoto(jo, Images.jpeg(400, 300), "widen");
    StubChat.Message result = resultOf(jo);
    assertEquals("document", result.kind());
    assertTrue(result.caption().contains("Sent as a file"), result.caption());
    assertTrue(telegram.calls("sendPhoto").isEmpty(), "no doomed sendPhoto was tried");
  }

  @Test
  void aFailedEditIsExplainedInPlainWordsWithAnAgainButton() {
    startAll();
    worker.failNext("comfy_timeout", "ComfyUI did not finish within 300 s", false);
    JsonObject kim = telegram.user(1012, "Kim", "en");
    telegram.sendPhoto(kim, Images.jpeg(400, 300), "make it gold");
    StubChat.Message m = telegram.awaitBotMessage(1012, "the failure", WAIT, x -> x.visible().startsWith("😞"));
    assertEquals("😞 Sorry, the edit of your photo failed: the editing server took too long. Press \"Again\" to try once more.",
        m.visible());
    assertNotNull(m.buttonData("Again"));
    telegram.awaitBotMessage(1012, "status says failed", WAIT, x -> x.visible().equals("❌ The edit failed."));
    assertFalse(m.visible().contains("ComfyUI"), "no internals shown");
  }

  @Test
  void withNoWorkerOnlineTheJobIsQueuedAndThePersonToldTheWaitMayBeLong() {
    bot = BotHarness.start(REDIS.url(), telegram);
    JsonObject lou = telegram.user(1013, "Lou", "en");
    telegram.sendPhoto(lou, Images.jpeg(200, 200), "make it rain");
    telegram.awaitBotMessage(1013, "queued, wait may be long", WAIT,
        m -> m.visible().contains("In the queue") && m.visible().contains("the wait may be long"));
    assertEquals(1L, await(bot.queue().depth()));
    worker = EditBackend.start(bot.config, 2, 50);
    resultOf(lou);
  }

  @Test
  void whenTheQueueIsFullThePersonIsToldTheServiceIsBusyAndNothingIsQueued() {
    bot = BotHarness.start(REDIS.url(), telegram, "QUEUE_MAX_DEPTH", "1"); // no worker yet: jobs stay waiting
    JsonObject mo = telegram.user(1015, "Mo", "en");
    JsonObject nia = telegram.user(1016, "Nia", "en");
    telegram.sendPhoto(mo, Images.jpeg(200, 200), "make it autumn");
    telegram.awaitBotMessage(1015, "queued", WAIT, m -> m.visible().contains("In the queue"));
    telegram.sendPhoto(nia, Images.jpeg(200, 200), "make it spring");
    StubChat.Message busy = telegram.awaitBotMessage(1016, "the busy answer", WAIT, m -> m.visible().startsWith("The service is"));
    assertEquals("The service is very busy right now: too many edits are waiting. Please try again in a few minutes.",
        busy.visible());
    assertTrue(busy.buttons().isEmpty(), "nothing to cancel");
    assertEquals(1L, await(bot.queue().depth()), "only the first request is queued");
    assertNull(await(bot.queue().redis().send(io.vertx.redis.client.Command.GET, bot.keys().last(1016))), "no job for Nia");
    // Once the line moves, the refused person is served: the refusal held no place for them.
    worker = EditBackend.start(bot.config, 2, 50);
    resultOf(mo);
    assertEquals(1, worker.taken().size());
    telegram.sendPhoto(nia, Images.jpeg(200, 200), "make it spring");
    resultOf(nia);
  }

  @Test
  void statusEditsOfOneMessageAreAtLeastTheStatusIntervalApart() {
    long interval = 300;
    bot = BotHarness.start(REDIS.url(), telegram, "BOT_STATUS_INTERVAL", interval + "ms");
    worker = EditBackend.start(bot.config, 60, 25); // a progress report every 25 ms for 1.5 s or more
    JsonObject oz = telegram.user(1017, "Oz", "en");
    telegram.sendPhoto(oz, Images.jpeg(200, 200), "add a rainbow");
    StubChat.Message status = telegram.awaitBotMessage(1017, "the final status", WAIT, m -> m.visible().equals("✅ Done."));
    // The last edit ("Done") is written by delivery once the result is sent, and is not held back; the throttle is
    // for the edits that follow the job (place in line, progress).
    List<TelegramStub.Call> edits = telegram.calls("editmessagetext").stream()
        .filter(c -> Long.valueOf(1017).equals(c.chatId()) && c.params().getLong("message_id") == status.id)
        .filter(c -> !"✅ Done.".equals(c.params().getString("text")))
        .toList();
    assertTrue(edits.size() >= 3, "the job was followed (queued, then progress): " + texts(edits));
    for (int i = 1; i < edits.size(); i++) {
      long gap = edits.get(i).atMs() - edits.get(i - 1).atMs();
      // 50 ms of tolerance: the interval is measured in the bot, the gap where Telegram received the edits.
      assertTrue(gap >= interval - 50, "edit " + i + " came " + gap + " ms after the one before: " + texts(edits));
    }
  }

  @Test
  void aPhotoWithoutCaptionIsForgottenAfterItsTimeToLive() {
    startAll("BOT_PENDING_PHOTO_TTL", "1s");
    JsonObject pia = telegram.user(1018, "Pia", "en");
    telegram.sendPhoto(pia, Images.png(300, 200), null);
    telegram.awaitBotMessage(1018, "the question for an instruction", WAIT, m -> m.visible().contains("Now send me what to change")
        && m.visible().contains("keep the photo for 1 min"));
    Await.until("the waiting photo expired", Duration.ofSeconds(5),
        () -> await(bot.queue().redis().send(io.vertx.redis.client.Command.EXISTS, bot.keys().pending(1018))).toInteger() == 0);
    telegram.sendText(pia, "make it sepia");
    telegram.awaitBotMessage(1018, "the request for a photo", WAIT, m -> m.visible().contains("Send me a photo first"));
    assertEquals(0L, await(bot.queue().depth()), "the late instruction queued nothing");
    assertTrue(worker.taken().isEmpty());
  }

  private static List<String> texts(List<TelegramStub.Call> calls) {
    return calls.stream().map(c -> c.atMs() + " ms: " + c.params().getString("text")).toList();
  }

  private static void sleepMs(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
