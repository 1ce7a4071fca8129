package io.qwenedit.api;

import io.qwenedit.config.QueueConfig;
import io.qwenedit.queue.NewJob;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerFileUpload;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.Base64;
import java.util.Locale;

/**
 * Reads a job submission into memory, within limits, before anything is stored: multipart/form-data ({@code image}
 * file + {@code prompt}, optional {@code workflow}, {@code seed}, {@code steps}) or JSON (the image in base64). A body
 * announced or found to be over the limit is refused with 413 at once and the connection closed within a second (see
 * ApiErrors: the rest is read and dropped meanwhile, so the client gets the answer), so a huge upload is
 * cut off instead of read to the end. Vert.x Web's BodyHandler is not used because it spools uploads to disk; an image
 * is at most {@code MAX_IMAGE_BYTES} and goes to Redis from memory anyway. The result is put in the routing context
 * under {@link #NEW_JOB}.
 */
final class JobRequestReader implements Handler<RoutingContext> {
  static final String NEW_JOB = "qwenedit.newJob";
  /** Room for the form fields and multipart framing around the image. */
  static final int FORM_SLACK_BYTES = 64 * 1024;

  private final QueueConfig limits;
  private final long multipartLimit;
  private final long jsonLimit;

  JobRequestReader(QueueConfig limits) {
    this.limits = limits;
    this.multipartLimit = limits.maxImageBytes() + FORM_SLACK_BYTES;
    // Base64 makes 3 bytes into 4 characters.
    this.jsonLimit = (limits.maxImageBytes() + 2) / 3 * 4 + FORM_SLACK_BYTES;
  }

  long multipartLimit() {
    return multipartLimit;
  }

  @Override
  public void handle(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    String type = mediaType(req.getHeader(HttpHeaders.CONTENT_TYPE));
    boolean multipart = "multipart/form-data".equals(type);
    if (!multipart && !"application/json".equals(type)) {
      ctx.fail(new ApiException(415, "unsupported_media_type", "Send the job as multipart/form-data (an 'image' file and a"
          + " 'prompt' field) or as application/json ({\"prompt\": ..., \"image\": \"<base64>\"}), not "
          + (type == null ? "a body without Content-Type" : type) + "."));
      return;
    }
    long limit = multipart ? multipartLimit : jsonLimit;
    long announced = contentLength(req.getHeader(HttpHeaders.CONTENT_LENGTH));
    if (announced > limit) {
      ctx.fail(tooLarge(announced, limit));
      return;
    }
    new Reading(ctx, multipart, limit).start();
  }

  private ApiException tooLarge(long size, long limit) {
    return new ApiException(413, "request_too_large", "The request is " + mb(size) + (size > limit ? "" : " or more")
        + "; the image may be at most " + mb(limits.maxImageBytes()) + ". Please send a smaller image.").closing();
  }

  /** One request's body being read. Runs on the request's event loop only. */
  private final class Reading {
    private final RoutingContext ctx;
    private final HttpServerRequest req;
    private final boolean multipart;
    private final long limit;
    private final Buffer body = Buffer.buffer();
    private Buffer image;
    private long received;
    private boolean failed;

    Reading(RoutingContext ctx, boolean multipart, long limit) {
      this.ctx = ctx;
      this.req = ctx.request();
      this.multipart = multipart;
      this.limit = limit;
    }

    void start() {
      req.exceptionHandler(err -> fail(new ApiException(400, "bad_request", "The request body could not be read: "
          + (err.getMessage() == null ? err.getClass().getSimpleName() : err.getMessage()) + ".")));
      if (multipart) {
        req.setExpectMultipart(true);
        req.uploadHandler(this::upload);
      }
      req.handler(chunk -> {
        if (failed) {
          return;
        }
        received += chunk.length();
        if (received > limit) {
          fail(tooLarge(received, limit));
        } else if (!multipart) {
          body.appendBuffer(chunk);
        }
      });
      req.endHandler(v -> finish());
      if ("100-continue".equalsIgnoreCase(req.getHeader(HttpHeaders.EXPECT))) {
        ctx.response().writeContinue();
      }
      req.resume();
    }

    private void upload(HttpServerFileUpload upload) {
      if (!"image".equals(upload.name()) || image != null) {
        upload.handler(ignored -> { }); // other files are not ours; their bytes still count towards the body limit
        return;
      }
      image = Buffer.buffer();
      upload.handler(chunk -> {
        if (failed) {
          return;
        }
        if (image.length() + chunk.length() > limits.maxImageBytes()) {
          fail(new ApiException(413, "image_too_large", "The image is more than " + mb(limits.maxImageBytes())
              + ", the limit. Please send a smaller image.").closing());
        } else {
          image.appendBuffer(chunk);
        }
      });
    }

    private void fail(ApiException e) {
      if (!failed) {
        failed = true;
        ctx.fail(e);
      }
    }

    private void finish() {
      if (failed) {
        return;
      }
      try {
        ctx.put(NEW_JOB, multipart ? fromForm(req.formAttributes(), image) : fromJson(body));
      } catch (ApiException e) {
        fail(e);
        return;
      }
      ctx.next();
    }
  }

  static NewJob fromForm(MultiMap form, Buffer image) {
    JsonObject params = params(form.get("seed"), form.get("steps"));
    return new NewJob(form.get("prompt"), image, params, blankToNull(form.get("workflow")), null, null);
  }

  static NewJob fromJson(Buffer body) {
    JsonObject json;
    try {
      Object parsed = body.length() == 0 ? null : io.vertx.core.json.Json.decodeValue(body);
      if (!(parsed instanceof JsonObject o)) {
        throw new ApiException(400, "bad_json", "The body must be a JSON object such as {\"prompt\": \"make the sky purple\","
            + " \"image\": \"<base64 of a PNG, JPEG or WebP>\"}.");
      }
      json = o;
    } catch (DecodeException e) {
      throw new ApiException(400, "bad_json", "The body is not valid JSON: " + firstLine(e.getMessage()) + ".");
    }
    Object prompt = json.getValue("prompt");
    if (prompt != null && !(prompt instanceof String)) {
      throw new ApiException(400, "bad_input", "The prompt must be a string.");
    }
    Object workflow = json.getValue("workflow");
    if (workflow != null && !(workflow instanceof String)) {
      throw new ApiException(400, "bad_input", "The workflow must be a string naming a workflow.");
    }
    Object seed = json.getValue("seed");
    Object steps = json.getValue("steps");
    JsonObject params = params(seed == null ? null : String.valueOf(seed), steps == null ? null : String.valueOf(steps));
    return new NewJob((String) prompt, decodeImage(json.getValue("image")), params, blankToNull((String) workflow), null, null);
  }

  private static Buffer decodeImage(Object value) {
    if (value == null) {
      return null;
    }
    if (!(value instanceof String s)) {
      throw new ApiException(400, "bad_image_encoding", "The image must be a base64 string (or a data: URL).");
    }
    String data = s.strip();
    if (data.startsWith("data:")) {
      int comma = data.indexOf(',');
      if (comma < 0 || !data.substring(0, comma).endsWith(";base64")) {
        throw new ApiException(400, "bad_image_encoding", "The image data: URL must be base64-encoded (data:image/png;base64,...).");
      }
      data = data.substring(comma + 1);
    }
    try {
      // Line breaks are tolerated (some encoders wrap at 76 columns); any other stray character is an error.
      return Buffer.buffer(Base64.getDecoder().decode(data.replaceAll("\\s+", "")));
    } catch (IllegalArgumentException e) {
      throw new ApiException(400, "bad_image_encoding", "The image is not valid base64: " + e.getMessage() + ".");
    }
  }

  /** Seed and steps from text; the queue checks their ranges. */
  private static JsonObject params(String seed, String steps) {
    JsonObject params = new JsonObject();
    if (seed != null && !seed.isBlank()) {
      try {
        params.put("seed", Long.parseLong(seed.strip()));
      } catch (NumberFormatException e) {
        throw new ApiException(400, "bad_input", "The seed must be a whole number, not \"" + abbreviate(seed) + "\".");
      }
    }
    if (steps != null && !steps.isBlank()) {
      try {
        params.put("steps", Integer.parseInt(steps.strip()));
      } catch (NumberFormatException e) {
        throw new ApiException(400, "bad_input", "The number of steps must be a whole number from 1 to 200, not \""
            + abbreviate(steps) + "\".");
      }
    }
    return params.isEmpty() ? null : params;
  }

  static String mediaType(String contentType) {
    if (contentType == null || contentType.isBlank()) {
      return null;
    }
    int semi = contentType.indexOf(';');
    return (semi < 0 ? contentType : contentType.substring(0, semi)).strip().toLowerCase(Locale.ROOT);
  }

  private static long contentLength(String header) {
    try {
      return header == null ? -1 : Long.parseLong(header.strip());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  static String mb(long bytes) {
    return String.format(Locale.ROOT, "%.1f MB", bytes / (1024.0 * 1024.0));
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.strip();
  }

  private static String abbreviate(String s) {
    return s.length() <= 40 ? s : s.substring(0, 37) + "...";
  }

  private static String firstLine(String s) {
    return s == null ? "" : s.split("\n")[0];
  }
}
