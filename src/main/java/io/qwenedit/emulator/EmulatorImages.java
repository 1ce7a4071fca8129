package io.qwenedit.emulator;

import io.qwenedit.queue.ImageInfo;
import io.vertx.core.buffer.Buffer;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Iterator;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * The emulator's "edit": the input's colour negative, scaled as the workflow's ImageScaleToTotalPixels and VAE would
 * (about N megapixels, sides cropped to multiples of 8), with a 64-bit hash of the prompt drawn as an 8x8 grid of black
 * and white cells in the top-left corner. {@link #matches} lets a test prove that a result was made from a given
 * input (and prompt), whatever its size.
 */
public final class EmulatorImages {
  private static final int THUMB = 16;

  private EmulatorImages() {}

  /** The input could not be read as an image (ComfyUI's LoadImage fails the same way at execution). */
  public static final class NotAnImageException extends Exception {
    NotAnImageException(String message) {
      super(message, null, false, false);
    }
  }

  /**
   * Makes the output PNG for an input.
   *
   * @param megapixels the target size as ImageScaleToTotalPixels takes it; 0 or less keeps the input's size
   */
  public static Buffer derive(Buffer input, String prompt, double megapixels) throws NotAnImageException {
    BufferedImage out = negative(scaled(decode(input), megapixels));
    stamp(out, promptHash(prompt));
    return png(out);
  }

  /** A small JPEG of an output for preview frames (longest side at most {@code maxSide}). */
  public static Buffer preview(Buffer outputPng, int maxSide) {
    BufferedImage img = read(outputPng);
    double f = Math.min(1.0, (double) maxSide / Math.max(img.getWidth(), img.getHeight()));
    BufferedImage small = resize(img, Math.max(1, (int) Math.round(img.getWidth() * f)), Math.max(1, (int) Math.round(img.getHeight() * f)));
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try {
      ImageIO.write(small, "jpg", bytes);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return Buffer.buffer(bytes.toByteArray());
  }

  /** True when {@code output} is the emulator's edit of {@code input} (any size; the stamp corner is ignored). */
  public static boolean matches(Buffer input, Buffer output) {
    BufferedImage in;
    try {
      in = decode(input);
    } catch (NotAnImageException e) {
      return false;
    }
    BufferedImage out = read(output);
    if (out == null) {
      return false;
    }
    double inAspect = (double) in.getWidth() / in.getHeight();
    double outAspect = (double) out.getWidth() / out.getHeight();
    if (Math.abs(inAspect - outAspect) / inAspect > 0.05) {
      return false;
    }
    int[][] expected = thumbnail(negative(in));
    int[][] actual = thumbnail(out);
    double total = 0;
    int cells = 0;
    for (int y = 0; y < THUMB; y++) {
      for (int x = 0; x < THUMB; x++) {
        if (x == 0 && y == 0) {
          continue; // the prompt stamp
        }
        for (int c = 0; c < 3; c++) {
          int d = Math.abs(((expected[y][x] >> (16 - 8 * c)) & 0xFF) - ((actual[y][x] >> (16 - 8 * c)) & 0xFF));
          if (d > 48) {
            return false;
          }
          total += d;
          cells++;
        }
      }
    }
    return total / cells < 8;
  }

  /** True when {@code output} is the emulator's edit of {@code input} for exactly this prompt. */
  public static boolean matches(Buffer input, Buffer output, String prompt) {
    Long stamp = readStamp(output);
    return stamp != null && stamp == promptHash(prompt) && matches(input, output);
  }

  /** The first 64 bits of the SHA-256 of the prompt text. */
  public static long promptHash(String prompt) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest((prompt == null ? "" : prompt).getBytes(StandardCharsets.UTF_8));
      long h = 0;
      for (int i = 0; i < 8; i++) {
        h = (h << 8) | (d[i] & 0xFF);
      }
      return h;
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The hash drawn into an output, or null when the image is too small to carry one or cannot be read. */
  public static Long readStamp(Buffer outputPng) {
    BufferedImage img = read(outputPng);
    if (img == null) {
      return null;
    }
    int cell = cell(img);
    if (cell * 8 > Math.min(img.getWidth(), img.getHeight())) {
      return null;
    }
    long h = 0;
    for (int i = 0; i < 64; i++) {
      int rgb = img.getRGB((i % 8) * cell + cell / 2, (i / 8) * cell + cell / 2);
      int lum = (((rgb >> 16) & 0xFF) + ((rgb >> 8) & 0xFF) + (rgb & 0xFF)) / 3;
      h = (h << 1) | (lum > 127 ? 1 : 0);
    }
    return h;
  }

  /** Width and height of a PNG or JPEG, or null. */
  public static int[] size(Buffer image) {
    BufferedImage img = read(image);
    return img == null ? null : new int[] {img.getWidth(), img.getHeight()};
  }

  static BufferedImage decode(Buffer input) throws NotAnImageException {
    BufferedImage img = read(input);
    if (img != null) {
      return img;
    }
    ImageInfo info = ImageInfo.sniff(input);
    if (info == null) {
      throw new NotAnImageException("cannot identify image file");
    }
    // A format the JDK cannot decode (WebP): a stand-in picture determined by the bytes, so results stay provable.
    return synthetic(input.getBytes(), info.width(), info.height());
  }

  private static BufferedImage read(Buffer bytes) {
    try {
      BufferedImage img = ImageIO.read(new ByteArrayInputStream(bytes.getBytes()));
      if (img == null) {
        return null;
      }
      if (img.getType() != BufferedImage.TYPE_INT_RGB) {
        BufferedImage rgb = new BufferedImage(img.getWidth(), img.getHeight(), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = rgb.createGraphics();
        g.drawImage(img, 0, 0, null);
        g.dispose();
        return rgb;
      }
      return img;
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  private static BufferedImage synthetic(byte[] bytes, int w, int h) {
    int seed = java.util.Arrays.hashCode(bytes);
    int limit = 2048;
    double f = Math.min(1.0, (double) limit / Math.max(w, h));
    int sw = Math.max(1, (int) (w * f));
    int sh = Math.max(1, (int) (h * f));
    BufferedImage img = new BufferedImage(sw, sh, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < sh; y++) {
      for (int x = 0; x < sw; x++) {
        int r = (seed >> 16 & 0xFF) ^ (x * 255 / sw);
        int g = (seed >> 8 & 0xFF) ^ (y * 255 / sh);
        int b = seed & 0xFF;
        img.setRGB(x, y, (r & 0xFF) << 16 | (g & 0xFF) << 8 | b);
      }
    }
    return img;
  }

  /** ImageScaleToTotalPixels (resolution_steps 1), then the VAE's centre crop to multiples of 8. */
  static BufferedImage scaled(BufferedImage in, double megapixels) {
    int w = in.getWidth();
    int h = in.getHeight();
    BufferedImage img = in;
    if (megapixels > 0) {
      double scale = Math.sqrt(megapixels * 1024 * 1024 / ((double) w * h));
      int sw = Math.max(1, (int) Math.round(w * scale));
      int sh = Math.max(1, (int) Math.round(h * scale));
      if (sw != w || sh != h) {
        img = resize(in, sw, sh);
      }
    }
    int cw = Math.max(8, img.getWidth() / 8 * 8);
    int ch = Math.max(8, img.getHeight() / 8 * 8);
    if (cw > img.getWidth() || ch > img.getHeight()) {
      return resize(img, cw, ch);
    }
    if (cw != img.getWidth() || ch != img.getHeight()) {
      img = img.getSubimage((img.getWidth() - cw) / 2, (img.getHeight() - ch) / 2, cw, ch);
      BufferedImage copy = new BufferedImage(cw, ch, BufferedImage.TYPE_INT_RGB);
      copy.getGraphics().drawImage(img, 0, 0, null);
      return copy;
    }
    return img;
  }

  private static BufferedImage resize(BufferedImage in, int w, int h) {
    BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = out.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
    g.drawImage(in, 0, 0, w, h, null);
    g.dispose();
    return out;
  }

  private static BufferedImage negative(BufferedImage in) {
    int w = in.getWidth();
    int h = in.getHeight();
    BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    int[] row = new int[w];
    for (int y = 0; y < h; y++) {
      in.getRGB(0, y, w, 1, row, 0, w);
      for (int x = 0; x < w; x++) {
        row[x] = ~row[x] & 0xFFFFFF;
      }
      out.setRGB(0, y, w, 1, row, 0, w);
    }
    return out;
  }

  private static int cell(BufferedImage img) {
    return Math.max(2, Math.min(img.getWidth(), img.getHeight()) / 128);
  }

  private static void stamp(BufferedImage img, long hash) {
    int cell = cell(img);
    if (cell * 8 > Math.min(img.getWidth(), img.getHeight())) {
      return;
    }
    for (int i = 0; i < 64; i++) {
      int color = ((hash >>> (63 - i)) & 1) == 1 ? 0xFFFFFF : 0x000000;
      int x0 = (i % 8) * cell;
      int y0 = (i / 8) * cell;
      for (int y = y0; y < y0 + cell; y++) {
        for (int x = x0; x < x0 + cell; x++) {
          img.setRGB(x, y, color);
        }
      }
    }
  }

  /** Area-averaged 16x16 thumbnail as packed RGB. */
  private static int[][] thumbnail(BufferedImage img) {
    int w = img.getWidth();
    int h = img.getHeight();
    long[][][] sum = new long[THUMB][THUMB][4];
    int[] row = new int[w];
    for (int y = 0; y < h; y++) {
      img.getRGB(0, y, w, 1, row, 0, w);
      int ty = Math.min(THUMB - 1, y * THUMB / h);
      for (int x = 0; x < w; x++) {
        int tx = Math.min(THUMB - 1, x * THUMB / w);
        long[] s = sum[ty][tx];
        s[0] += (row[x] >> 16) & 0xFF;
        s[1] += (row[x] >> 8) & 0xFF;
        s[2] += row[x] & 0xFF;
        s[3]++;
      }
    }
    int[][] out = new int[THUMB][THUMB];
    for (int y = 0; y < THUMB; y++) {
      for (int x = 0; x < THUMB; x++) {
        long[] s = sum[y][x];
        long n = Math.max(1, s[3]);
        out[y][x] = (int) (s[0] / n) << 16 | (int) (s[1] / n) << 8 | (int) (s[2] / n);
      }
    }
    return out;
  }

  private static Buffer png(BufferedImage img) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName("png");
    ImageWriter writer = writers.next();
    try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
      writer.setOutput(out);
      ImageWriteParam param = writer.getDefaultWriteParam();
      if (param.canWriteCompressed()) {
        // Fast deflate: the emulator may produce hundreds of 1 MP images in a load test.
        param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
        param.setCompressionQuality(0.75f);
      }
      writer.write(null, new IIOImage(img, null, null), param);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } finally {
      writer.dispose();
    }
    return Buffer.buffer(bytes.toByteArray());
  }
}
