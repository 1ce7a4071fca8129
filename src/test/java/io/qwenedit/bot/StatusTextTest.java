package io.qwenedit.bot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qwenedit.queue.JobError;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

class StatusTextTest {
  private static StatusText.View view(String state, Integer pos, JsonObject progress) {
    return new StatusText.View(state, pos, progress, false, 1, false, false);
  }

  @Test
  void theStatusFollowsTheJob() {
    assertEquals("🕐 In the queue: you are number 4.", StatusText.status("en", view("queued", 4, null)));
    assertEquals("🕐 In the queue: you are next.", StatusText.status("en", view("queued", 1, null)));
    assertEquals("🎨 Editing your photo…", StatusText.status("en", view("running", null, null)));
    assertEquals("🎨 Editing your photo… 35%\n▓▓▓░░░░░░░", StatusText.status("en", view("running", null,
        new JsonObject().put("value", 7).put("max", 20))));
    assertEquals("⏹ Stopping your edit…", StatusText.status("en",
        new StatusText.View("running", null, null, false, 1, true, false)));
    assertTrue(StatusText.status("en", new StatusText.View("queued", 2, null, false, 0, false, true)).contains("the wait may be long"));
    assertTrue(StatusText.status("en", new StatusText.View("queued", null, null, true, 2, false, false)).contains("attempt 2"));
    assertNull(StatusText.status("en", view("succeeded", null, null)));
    assertEquals("✅ Готово.", StatusText.finalStatus("ru", "succeeded"));
    assertEquals("❌ The edit failed.", StatusText.finalStatus("en", "dead"));
  }

  @Test
  void progressIsClampedAndTheBarHasTenCells() {
    assertEquals(100, StatusText.percent(new JsonObject().put("value", 30).put("max", 20)));
    assertEquals(0, StatusText.percent(new JsonObject().put("value", -1).put("max", 20)));
    assertNull(StatusText.percent(new JsonObject().put("value", 3)));
    assertEquals(42, StatusText.percent(new JsonObject().put("percent", 42.4)));
    assertEquals("▓▓▓▓▓▓▓▓▓▓", StatusText.bar(100));
    assertEquals("░░░░░░░░░░", StatusText.bar(0));
  }

  @Test
  void failuresAreExplainedByFamilyNeverByInternals() {
    assertEquals("reason_timeout", StatusText.reasonKey("failed", JobError.permanent("comfy_timeout", "x")));
    assertEquals("reason_timeout", StatusText.reasonKey("failed", JobError.permanent("stalled", "x")));
    assertEquals("reason_lost", StatusText.reasonKey("dead", JobError.permanent("lease_expired", "x")));
    assertEquals("reason_gave_up", StatusText.reasonKey("dead", JobError.permanent("comfy_error", "Gave up after 3 attempts: boom")));
    assertEquals("reason_input", StatusText.reasonKey("failed", JobError.permanent("invalid_workflow", "x")));
    assertEquals("reason_server", StatusText.reasonKey("failed", JobError.permanent("comfy_http_500", "x")));
    assertEquals("reason_default", StatusText.reasonKey("failed", JobError.permanent("weird", "x")));
    assertEquals("reason_default", StatusText.reasonKey("failed", null));
  }

  @Test
  void photoRulesFollowTelegram() {
    assertTrue(StatusText.fitsPhoto(1_000_000, 1024, 1024));
    assertTrue(StatusText.fitsPhoto(10L << 20, 5000, 5000));
    assertFalse(StatusText.fitsPhoto((10L << 20) + 1, 1000, 1000), "over 10 MB");
    assertFalse(StatusText.fitsPhoto(1000, 5001, 5000), "width + height over 10000");
    assertTrue(StatusText.fitsPhoto(1000, 2000, 100), "ratio 20 is allowed");
    assertFalse(StatusText.fitsPhoto(1000, 2001, 100), "ratio over 20");
    assertFalse(StatusText.fitsPhoto(1000, 0, 100));
  }

  @Test
  void captionsAreCutToTelegramsLimit() {
    String longText = "ж".repeat(2000);
    String c = StatusText.caption(longText);
    assertEquals(1021, c.codePointCount(0, c.length()));
    assertTrue(c.endsWith("…"));
    assertEquals("short", StatusText.caption("short"));
  }
}
