package io.qwenedit.bot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class TextsTest {
  private static final Pattern PLACEHOLDER = Pattern.compile("\\{([a-zA-Z]+)}");

  @Test
  void bothLanguagesHaveTheSameTextsWithTheSamePlaceholders() {
    Map<String, String> en = Texts.templates("en");
    Map<String, String> ru = Texts.templates("ru");
    assertEquals(new TreeSet<>(en.keySet()), new TreeSet<>(ru.keySet()), "the same keys in both files");
    for (String key : en.keySet()) {
      assertEquals(placeholders(en.get(key)), placeholders(ru.get(key)), "placeholders of " + key);
      assertFalse(en.get(key).isBlank(), key);
      assertFalse(ru.get(key).isBlank(), key);
    }
  }

  @Test
  void everyTextTheCodeAsksForExists() throws Exception {
    // Keys the code builds at run time: the command menu, the refusal reasons and the states.
    for (String c : new String[] {"start", "help", "status", "cancel"}) {
      Texts.get("en", "cmd_" + c);
    }
    for (String s : new String[] {"queued", "running", "succeeded", "failed", "dead", "cancelled"}) {
      Texts.get("ru", "state_" + s);
    }
    for (String k : new String[] {"reason_timeout", "reason_server", "reason_gave_up", "reason_lost", "reason_input", "reason_default"}) {
      Texts.get("ru", k);
    }
    assertThrows(IllegalArgumentException.class, () -> Texts.get("en", "no_such_text"));
  }

  private static Set<String> placeholders(String s) {
    Set<String> out = new TreeSet<>();
    Matcher m = PLACEHOLDER.matcher(s);
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }

  @Test
  void theLanguageComesFromTelegramsCodeWithEnglishAsFallback() {
    assertEquals("ru", Texts.language("ru", "en"));
    assertEquals("ru", Texts.language("ru-RU", "en"));
    assertEquals("en", Texts.language("en-US", "ru"));
    assertEquals("en", Texts.language("de", "en"));
    assertEquals("ru", Texts.language(null, "ru"));
    assertEquals("en", Texts.language("uk", "xx"));
  }

  @Test
  void placeholdersAreFilledAndUnknownOnesLeftAlone() {
    assertEquals("🕐 In the queue: you are number 3.", Texts.get("en", "queued", "position", 3));
    assertEquals("🕐 В очереди: вы 3-й.", Texts.get("ru", "queued", "position", 3));
    assertEquals("✅ {prompt}", Texts.get("en", "result_caption", "other", "x"));
    assertEquals("✅ a {b} c", Texts.get("en", "result_caption", "prompt", "a {b} c"), "values are not re-expanded");
  }
}
