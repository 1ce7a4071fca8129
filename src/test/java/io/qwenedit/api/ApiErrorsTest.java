package io.qwenedit.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qwenedit.queue.JobRejectedException;
import io.qwenedit.redis.RedisUnavailableException;
import io.vertx.ext.web.handler.HttpException;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ApiErrorsTest {
  @Test
  void everyRejectionCodeHasItsStatus() {
    Map<String, Integer> expected = Map.of(
        "prompt_missing", 400, "prompt_too_long", 400, "image_missing", 400, "bad_input", 400,
        "image_too_large", 413, "image_too_many_pixels", 413,
        "not_an_image", 415,
        "queue_full", 429,
        "some_future_code", 400);
    expected.forEach((code, status) -> assertEquals(status, ApiErrors.statusOf(code), code));
  }

  @Test
  void failuresMapToClearErrors() {
    ApiException rejected = ApiErrors.toApiException(new JobRejectedException("not_an_image", "not a picture"), 500, "POST", "/v1/jobs");
    assertEquals(415, rejected.status());
    assertEquals("not a picture", rejected.getMessage());
    ApiException redis = ApiErrors.toApiException(new RedisUnavailableException("down", null), 500, "GET", "/v1/jobs/x");
    assertEquals(503, redis.status());
    assertEquals("5", redis.headers().get("Retry-After"));
    assertEquals(404, ApiErrors.toApiException(null, 404, "GET", "/x").status());
    assertEquals(405, ApiErrors.toApiException(null, 405, "PUT", "/v1/jobs").status());
    ApiException tooLarge = ApiErrors.toApiException(new HttpException(413), 413, "POST", "/v1/jobs");
    assertEquals("request_too_large", tooLarge.code());
    assertTrue(tooLarge.closeConnection());
    ApiException bug = ApiErrors.toApiException(new NullPointerException("secret internals"), 500, "GET", "/v1/jobs/x");
    assertEquals(500, bug.status());
    assertEquals("internal_error", bug.code());
    assertFalse(bug.getMessage().contains("secret internals"), "internals stay in the log");
  }
}
