package io.qwenedit.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ApiKeysTest {
  private static final String KEY = "0123456789abcdef0123";

  @Test
  void withoutKeysOnlyLoopbackPeersWithoutAProxyAreLetIn() {
    ApiKeys open = new ApiKeys(List.of());
    assertTrue(open.check(null, "127.0.0.1", false).allowed());
    assertTrue(open.check(null, "127.8.9.10", false).allowed());
    assertTrue(open.check(null, "::1", false).allowed());
    assertTrue(open.check(null, "0:0:0:0:0:0:0:1", false).allowed());
    assertTrue(open.check(null, "::ffff:127.0.0.1", false).allowed());
    assertEquals("local", open.check(null, "127.0.0.1", false).client());
    for (String far : new String[] {"192.0.2.2", "10.0.0.1", "2001:db8::1", "::ffff:192.0.2.2", "localhost", "", null}) {
      ApiKeys.Verdict v = open.check(null, far, false);
      assertEquals(403, v.status(), String.valueOf(far));
      assertEquals("local_only", v.code());
    }
    assertEquals(403, open.check(null, "127.0.0.1", true).status(), "through a proxy the peer address means nothing");
  }

  @Test
  void withKeysAMissingKeyIs401AndAWrongOne403() {
    ApiKeys keys = new ApiKeys(List.of(KEY, "another-key-0000000000"));
    ApiKeys.Verdict none = keys.check(null, "127.0.0.1", false);
    assertEquals(401, none.status());
    assertEquals("unauthorized", none.code());
    ApiKeys.Verdict wrong = keys.check("0123456789abcdef0124", "127.0.0.1", false);
    assertEquals(403, wrong.status());
    assertFalse(wrong.message().contains("0123456789abcdef0124"), "the message never repeats a key");
    ApiKeys.Verdict ok = keys.check(KEY, "192.0.2.2", true);
    assertTrue(ok.allowed());
    assertEquals(ApiKeys.fingerprint(KEY), ok.client());
    assertFalse(ok.client().contains(KEY));
    assertTrue(ok.client().matches("key-[0-9a-f]{12}"), ok.client());
  }

  @Test
  void theKeyComesFromABearerTokenOrXApiKey() {
    assertEquals(KEY, ApiKeys.presented("Bearer " + KEY, null));
    assertEquals(KEY, ApiKeys.presented("bearer  " + KEY + " ", null));
    assertEquals(KEY, ApiKeys.presented(null, KEY));
    assertEquals(KEY, ApiKeys.presented("Basic abc", KEY));
    assertNull(ApiKeys.presented("Basic abc", null));
    assertNull(ApiKeys.presented(null, "  "));
  }
}
