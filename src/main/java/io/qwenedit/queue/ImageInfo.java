package io.qwenedit.queue;

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
    ImageInfo info = null;
    try {
      if (b.length >= 24 && (b[0] & 0xFF) == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G') {
        info = new ImageInfo("png", be32(b, 16), be32(b, 20), b.length);
      } else if (b.length >= 4 && (b[0] & 0xFF) == 0xFF && (b[1] & 0xFF) == 0xD8) {
        info = jpeg(b);
      } else if (b.length >= 30 && b[0] == 'R' && b[1] == 'I' && b[2] == 'F' && b[3] == 'F'
          && b[8] == 'W' && b[9] == 'E' && b[10] == 'B' && b[11] == 'P') {
        info = webp(b);
      }
    } catch (ArrayIndexOutOfBoundsException e) {
      return null;
    }
    if (info == null || info.width <= 0 || info.height <= 0) {
      return null;
    }
    return info;
  }

  private static ImageInfo jpeg(byte[] b) {
    int i = 2;
    while (i + 9 < b.length) {
      if ((b[i] & 0xFF) != 0xFF) {
        return null;
      }
      int marker = b[i + 1] & 0xFF;
      if (marker == 0xFF) {
        i++;
        continue;
      }
      if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
        i += 2;
        continue;
      }
      int len = be16(b, i + 2);
      boolean sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
      if (sof) {
        return new ImageInfo("jpeg", be16(b, i + 7), be16(b, i + 5), b.length);
      }
      if (marker == 0xD9 || marker == 0xDA || len < 2) {
        return null;
      }
      i += 2 + len;
    }
    return null;
  }

  private static ImageInfo webp(byte[] b) {
    String chunk = new String(b, 12, 4, java.nio.charset.StandardCharsets.US_ASCII);
    switch (chunk) {
      case "VP8 ":
        return new ImageInfo("webp", le16(b, 26) & 0x3FFF, le16(b, 28) & 0x3FFF, b.length);
      case "VP8L": {
        int bits = (b[21] & 0xFF) | (b[22] & 0xFF) << 8 | (b[23] & 0xFF) << 16 | (b[24] & 0xFF) << 24;
        return new ImageInfo("webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, b.length);
      }
      case "VP8X":
        return new ImageInfo("webp", le24(b, 24) + 1, le24(b, 27) + 1, b.length);
      default:
        return null;
    }
  }

  private static int be32(byte[] b, int o) {
    return (b[o] & 0xFF) << 24 | (b[o + 1] & 0xFF) << 16 | (b[o + 2] & 0xFF) << 8 | (b[o + 3] & 0xFF);
  }

  private static int be16(byte[] b, int o) {
    return (b[o] & 0xFF) << 8 | (b[o + 1] & 0xFF);
  }

  private static int le16(byte[] b, int o) {
    return (b[o] & 0xFF) | (b[o + 1] & 0xFF) << 8;
  }

  private static int le24(byte[] b, int o) {
    return (b[o] & 0xFF) | (b[o + 1] & 0xFF) << 8 | (b[o + 2] & 0xFF) << 16;
  }
}
