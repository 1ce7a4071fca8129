package io.qwenedit.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.qwenedit.testing.Images;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class ImageInfoTest {
  @Test
  void readsPngAndJpegDimensionsFromTheHeader() {
    ImageInfo png = ImageInfo.sniff(Images.png(321, 123).getBytes());
    assertEquals("png", png.format());
    assertEquals(321, png.width());
    assertEquals(123, png.height());
    ImageInfo jpg = ImageInfo.sniff(Images.jpeg(640, 480).getBytes());
    assertEquals("jpeg", jpg.format());
    assertEquals(640, jpg.width());
    assertEquals(480, jpg.height());
    assertEquals("jpg", jpg.extension());
  }

  @Test
  void readsWebpVariants() {
    // VP8X header: canvas 1000x750 stored as width-1, height-1 in 24-bit little endian
    byte[] vp8x = HexFormat.of().parseHex("52494646" + "00000000" + "57454250" + "56503858" + "0a000000" + "00000000"
        + "e70300" + "ed0200" + "0000");
    ImageInfo info = ImageInfo.sniff(vp8x);
    assertEquals("webp", info.format());
    assertEquals(1000, info.width());
    assertEquals(750, info.height());
  }

  @Test
  void refusesWhatIsNotAnImage() {
    assertNull(ImageInfo.sniff("%PDF-1.7 hello".getBytes()));
    assertNull(ImageInfo.sniff(new byte[0]));
    assertNull(ImageInfo.sniff(new byte[] {(byte) 0xFF, (byte) 0xD8, 0, 0}));
    byte[] truncated = Images.png(10, 10).getBytes(0, 12);
    assertNull(ImageInfo.sniff(truncated));
  }
}
