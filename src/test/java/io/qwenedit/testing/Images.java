package io.qwenedit.testing;

import io.vertx.core.buffer.Buffer;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import javax.imageio.ImageIO;

/** Real PNG and JPEG images made on the fly for tests. */
public final class Images {
  private Images() {}

  public static Buffer png(int width, int height) {
    return encode(width, height, "png", new Color(40, 120, 200));
  }

  public static Buffer jpeg(int width, int height) {
    return encode(width, height, "jpg", new Color(200, 80, 40));
  }

  public static Buffer png(int width, int height, Color color) {
    return encode(width, height, "png", color);
  }

  private static Buffer encode(int width, int height, String format, Color color) {
    BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    var g = img.createGraphics();
    g.setColor(color);
    g.fillRect(0, 0, width, height);
    g.setColor(Color.WHITE);
    g.fillRect(width / 4, height / 4, Math.max(1, width / 2), Math.max(1, height / 2));
    g.dispose();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      ImageIO.write(img, format, out);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return Buffer.buffer(out.toByteArray());
  }
}
