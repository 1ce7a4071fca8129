package io.qwenedit.emulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.util.Random;
import org.junit.jupiter.api.Test;

class FaultsTest {
  private static Faults parse(String json) {
    return Faults.parse(new JsonObject(json));
  }

  @Test
  void scheduleBeatsNextWhichBeatsAlways() {
    Faults f = parse("""
        {"schedule": {"2": {"fault": "wedge"}}, "next": [{"fault": "hang", "at_step": 3}, {"fault": "none"}],
         "always": {"fault": "error", "node": "KSampler", "exception_type": "RuntimeError"}}""");
    Random r = new Random(1);
    Faults.PromptFault first = f.forPrompt(1, r);
    assertEquals("hang", first.kind());
    assertEquals(3, first.atStep());
    assertEquals("wedge", f.forPrompt(2, r).kind());
    assertEquals("none", f.forPrompt(3, r).kind());
    Faults.PromptFault always = f.forPrompt(4, r);
    assertEquals("error", always.kind());
    assertEquals("KSampler", always.node());
    assertEquals("RuntimeError", always.exceptionType());
    assertEquals("error", f.forPrompt(5, r).kind());
  }

  @Test
  void randomFaultsFollowTheirProbability() {
    Faults f = parse("{\"random\": [{\"fault\": \"hang\", \"p\": 0.25}]}");
    Random r = new Random(42);
    int hangs = 0;
    for (int i = 1; i <= 2000; i++) {
      if (!f.forPrompt(i, r).none()) {
        hangs++;
      }
    }
    assertTrue(hangs > 400 && hangs < 600, "about a quarter: " + hangs);
  }

  @Test
  void httpFaultsMatchEndpointAndMethodAndRunOut() {
    Faults f = parse("{\"http\": [{\"fault\": \"http_500\", \"endpoint\": \"/api/prompt\", \"method\": \"POST\", \"times\": 2}]}");
    Random r = new Random();
    assertNull(f.forRequest("GET", "/prompt", r));
    assertEquals("http_500", f.forRequest("POST", "/prompt", r).kind);
    assertEquals("http_500", f.forRequest("POST", "/prompt", r).kind);
    assertNull(f.forRequest("POST", "/prompt", r), "used up");
    assertEquals(0, f.toJson().getJsonArray("http").getJsonObject(0).getInteger("remaining"));
    Faults slow = parse("{\"http\": [{\"fault\": \"slow\"}]}");
    assertEquals(1000, slow.forRequest("GET", "/history/x", r).delayMs, "every endpoint, 1 s by default");
  }

  @Test
  void badScriptsAreRefusedWithAMessageNamingThePart() {
    assertTrue(assertThrows(IllegalArgumentException.class, () -> parse("{\"nxt\": []}")).getMessage().contains("unknown key \"nxt\""));
    String m = assertThrows(IllegalArgumentException.class, () -> parse("{\"next\": [{\"fault\": \"http_500\"}]}")).getMessage();
    assertTrue(m.contains("next[0]") && m.contains("is an HTTP fault"), m);
    assertTrue(assertThrows(IllegalArgumentException.class, () -> parse("{\"random\": [{\"fault\": \"hang\"}]}")).getMessage().contains("\"p\""));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> parse("{\"schedule\": {\"x\": {\"fault\": \"hang\"}}}")).getMessage()
        .contains("not a prompt ordinal"));
    assertFalse(Faults.empty().forPrompt(1, new Random()).kind().isEmpty());
  }
}
