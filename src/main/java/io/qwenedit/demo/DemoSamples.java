package io.qwenedit.demo;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** The sample pictures shipped in the jar ({@code samples/}) and the edit instruction each is sent with. */
public final class DemoSamples {
  /** One sample: its short name, file name, instruction and bytes. */
  public record Sample(String name, String file, String prompt, Buffer image) {}

  private static final String DIR = "samples/";

  private DemoSamples() {}

  public static List<Sample> load() {
    JsonObject index = new JsonObject(new String(read(DIR + "samples.json"), StandardCharsets.UTF_8));
    List<Sample> out = new ArrayList<>();
    index.getJsonArray("samples").forEach(o -> {
      JsonObject s = (JsonObject) o;
      out.add(new Sample(s.getString("name"), s.getString("file"), s.getString("prompt"), Buffer.buffer(read(DIR + s.getString("file")))));
    });
    return out;
  }

  private static byte[] read(String resource) {
    try (InputStream in = DemoSamples.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("the jar has no " + resource + " (was it built from this source tree?)");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + resource + ": " + e.getMessage(), e);
    }
  }
}
