package io.qwenedit.queue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

/**
 * Format and size of an image, read from its header without decoding it (PNG, JPEG, WebP). Used to refuse non-images
 * and huge images at enqueue, before anything is stored.
 */
public record ImageInfo(String format, int width, int height, long bytes) {

  public static final String ACCEPTED = "PNG, JPEG or WebP";

  public long pixels() {
    return (long) width * height;
  }

  public String contentType() {
    return "image/" + format;
  }

  public String extension() {
    return "jpeg".equals(format) ? "jpg" : format;
  }

  public JsonObject toJson() {
    return new JsonObject().put("format", format).put("width", width).put("height", height).put("bytes", bytes);
  }

  /** Reads the header; returns null when the bytes are not a PNG, JPEG or WebP image with sane dimensions. */
  public static ImageInfo sniff(byte[] b) {
    return sniff(Buffer.buffer(b));
  }

  /**
   * The same, reading the buffer in place: only the header bytes are touched, so a 20 MB upload is not copied to find
   * out what it is.
   */
  public static ImageInfo sniff(Buffer b) {
    ImageInfo info = null;
    try {
      int n = b.length();
      if (n >= 24 && b.getUnsignedByte(0) == 0x89 && b.getByte(1) == 'P' && b.getByte(2) == 'N' && b.getByte(3) == 'G') {
        info = new ImageInfo("png", b.getInt(16), b.getInt(20), n);
      } else if (n >= 4 && b.getUnsignedByte(0) == 0xFF && b.getUnsignedByte(1) == 0xD8) {
        info = jpeg(b);
      } else if (n >= 30 && b.getByte(0) == 'R' && b.getByte(1) == 'I' && b.getByte(2) == 'F' && b.getByte(3) == 'F'
          && b.getByte(8) == 'W' && b.getByte(9) == 'E' && b.getByte(10) == 'B' && b.getByte(11) == 'P') {
        info = webp(b);
      }
    } catch (IndexOutOfBoundsException e) {
      return null;
    }
    if (info == null || info.width <= 0 || info.height <= 0) {
      return null;
    }
    return info;
  }

  private static ImageInfo jpeg(Buffer b) {
    int i = 2;
    while (i + 9 < b.length()) {
      if (b.getUnsignedByte(i) != 0xFF) {
        return null;
      }
      int marker = b.getUnsignedByte(i + 1);
      if (marker == 0xFF) {
        i++;
        continue;
      }
      if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
        i += 2;
        continue;
      }
      int len = b.getUnsignedShort(i + 2);
      boolean sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
      if (sof) {
        return new ImageInfo("jpeg", b.getUnsignedShort(i + 7), b.getUnsignedShort(i + 5), b.length());
      }
      if (marker == 0xD9 || marker == 0xDA || len < 2) {
        return null;
      }
      i += 2 + len;
    }
    return null;
  }

  private static ImageInfo webp(Buffer b) {
    String chunk = b.getString(12, 16, "US-ASCII");
    switch (chunk) {
      case "VP8 ":
        return new ImageInfo("webp", b.getUnsignedShortLE(26) & 0x3FFF, b.getUnsignedShortLE(28) & 0x3FFF, b.length());
      case "VP8L": {
        int bits = b.getIntLE(21);
        return new ImageInfo("webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, b.length());
      }
      case "VP8X":
        return new ImageInfo("webp", b.getUnsignedMediumLE(24) + 1, b.getUnsignedMediumLE(27) + 1, b.length());
      default:
        return null;
    }
  }
}
