package io.qwenedit.queue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

/**
 * A request to edit an image, as the bot, the HTTP API or {@code submit} hand it to {@link JobQueue#enqueue}.
 *
 * @param params optional workflow parameters (seed, steps, ...)
 * @param workflow optional workflow name (null: the configured default)
 * @param source who asked (e.g. {"kind":"telegram","chat":1,"message":2}); used to deliver the result
 * @param idempotencyKey the same key twice gives the same job (null: none)
 */
public record NewJob(String prompt, Buffer image, JsonObject params, String workflow, JsonObject source, String idempotencyKey) {

  public static NewJob of(String prompt, Buffer image) {
    return new NewJob(prompt, image, null, null, null, null);
  }

  public NewJob withIdempotencyKey(String key) {
    return new NewJob(prompt, image, params, workflow, source, key);
  }

  public NewJob withSource(JsonObject s) {
    return new NewJob(prompt, image, params, workflow, s, idempotencyKey);
  }

  public NewJob withParams(JsonObject p) {
    return new NewJob(prompt, image, p, workflow, source, idempotencyKey);
  }

  public NewJob withWorkflow(String w) {
    return new NewJob(prompt, image, params, w, source, idempotencyKey);
  }
}
