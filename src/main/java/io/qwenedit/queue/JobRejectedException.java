package io.qwenedit.queue;

/**
 * A request refused before anything was stored: bad input (code {@code bad_input}, {@code image_too_large},
 * {@code not_an_image}, ...) or a full queue ({@code queue_full}). The message is written for the person who asked.
 */
public final class JobRejectedException extends RuntimeException {
  private final String code;

  public JobRejectedException(String code, String message) {
    super(message, null, false, false);
    this.code = code;
  }

  public String code() {
    return code;
  }
}
