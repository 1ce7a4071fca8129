package io.qwenedit.emulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qwenedit.testing.Images;
import io.vertx.core.buffer.Buffer;
import java.awt.Color;
import org.junit.jupiter.api.Test;

class EmulatorImagesTest {
  private static final Buffer BLUE = Images.png(300, 200, new Color(40, 120, 200));

  @Test
  void theEditIsTheScaledNegativeWithThePromptStamped() throws Exception {
    Buffer out = EmulatorImages.derive(BLUE, "make the sky purple", 1.0);
    int[] size = EmulatorImages.size(out);
    // 300x200 scaled to 1 MP is 1254x836, cropped to multiples of 8 by the VAE.
    assertEquals(1248, size[0]);
    assertEquals(832, size[1]);
    assertEquals(EmulatorImages.promptHash("make the sky purple"), EmulatorImages.readStamp(out));
    assertTrue(EmulatorImages.matches(BLUE, out));
    assertTrue(EmulatorImages.matches(BLUE, out, "make the sky purple"));
    assertFalse(EmulatorImages.matches(BLUE, out, "make the sky green"), "another prompt's result");
  }

  @Test
  void matchesRejectsOtherInputsAndTheInputItself() throws Exception {
    Buffer out = EmulatorImages.derive(BLUE, "x", 1.0);
    assertFalse(EmulatorImages.matches(Images.png(300, 200, new Color(200, 80, 40)), out), "different colours");
    assertFalse(EmulatorImages.matches(Images.png(200, 300, new Color(40, 120, 200)), out), "different shape");
    assertFalse(EmulatorImages.matches(BLUE, BLUE), "not edited");
    assertTrue(EmulatorImages.matches(Images.jpeg(300, 200), EmulatorImages.derive(Images.jpeg(300, 200), "x", 0.25)), "JPEG, any size");
  }

  @Test
  void notAnImageIsRefusedLikeLoadImageWould() {
    assertThrows(EmulatorImages.NotAnImageException.class, () -> EmulatorImages.derive(Buffer.buffer("hello"), "x", 1.0));
  }

  @Test
  void previewsAreSmallJpegs() throws Exception {
    Buffer preview = EmulatorImages.preview(EmulatorImages.derive(BLUE, "x", 1.0), 256);
    assertEquals((byte) 0xFF, preview.getByte(0));
    assertEquals((byte) 0xD8, preview.getByte(1));
    int[] size = EmulatorImages.size(preview);
    assertEquals(256, Math.max(size[0], size[1]));
  }
}
