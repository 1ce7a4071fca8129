package io.qwenedit.bot;

import static io.qwenedit.testing.Await.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qwenedit.config.Config;
import io.qwenedit.emulator.ComfyEmulator;
import io.qwenedit.emulator.EmulatorImages;
import io.qwenedit.emulator.EmulatorOptions;
import io.qwenedit.queue.Job;
import io.qwenedit.supervision.SupervisorVerticle;
import io.qwenedit.telegram.StubChat;
import io.qwenedit.telegram.TelegramStub;
import io.qwenedit.testing.Images;
import io.qwenedit.testing.RedisServerExtension;
import io.qwenedit.worker.WorkerRole;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The whole way: Telegram (stub) → bot → Redis queue → the real worker → the ComfyUI emulator → back to the person. */
class BotWithRealWorkerTest {
  @RegisterExtension
  static final RedisServerExtension REDIS = new RedisServerExtension();
  private static final Duration WAIT = Duration.ofSeconds(30);

  private TelegramStub telegram;
  private Vertx emulatorVertx;
  private Vertx workerVertx;
  private WorkerRole worker;
  private BotHarness bot;

  @BeforeEach
  void setUp() {
    telegram = TelegramStub.start();
    emulatorVertx = Vertx.vertx();
    workerVertx = Vertx.vertx();
  }

  @AfterEach
  void tearDown() {
    if (bot != null) {
      bot.close();
    }
    if (worker != null) {
      await(worker.shutdown(Duration.ofSeconds(1)), Duration.ofSeconds(60));
    }
    await(workerVertx.close(), Duration.ofSeconds(30));
    await(emulatorVertx.close(), Duration.ofSeconds(30));
    telegram.close();
  }

  @Test
  void aPhotoIsEditedByTheWorkerOnComfyAndComesBack() {
    ComfyEmulator comfy = await(ComfyEmulator.start(emulatorVertx, EmulatorOptions.fast().withSteps(4)));
    Config config = BotHarness.config(REDIS.url(), telegram, "COMFYUI_URLS", comfy.url(), "WORKER_HEARTBEAT_INTERVAL", "500ms",
        "COMFYUI_POLL_INTERVAL", "200ms", "COMFYUI_REQUEST_TIMEOUT", "2s", "WORKER_GPU_LOCK_TIMEOUT", "3s");
    worker = await(WorkerRole.deploy(workerVertx, config, SupervisorVerticle.Options.defaults()), Duration.ofSeconds(30));
    bot = BotHarness.start(config, "bot-a");

    JsonObject ann = telegram.user(7001, "Ann", "en");
    Buffer photo = Images.png(160, 120);
    telegram.sendPhoto(ann, photo, "make the sky purple");
    StubChat.Message result = telegram.awaitBotMessage(7001, "the edited picture", WAIT, m -> "photo".equals(m.kind()));
    assertTrue(EmulatorImages.matches(photo, result.file(), "make the sky purple"),
        "the picture that came back was made from this photo and this instruction");
    // (Progress steps are shown when they are slower than BOT_STATUS_INTERVAL: BotConversationTest checks that.)
    telegram.awaitBotMessage(7001, "done", WAIT, m -> m.visible().equals("✅ Done."));
    String id = await(bot.queue().redis().send(io.vertx.redis.client.Command.GET, bot.keys().last(7001))).toString();
    Job job = await(bot.queue().get(id));
    assertEquals("succeeded", job.state().wire());
    assertEquals("gpu0", job.gpu());
  }
}
