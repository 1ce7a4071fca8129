package io.qwenedit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ArgsTest {
  private static Args parse(String... argv) {
    return Args.parse("submit", List.of(argv), Set.of("image", "prompt", "timeout"), Set.of("wait", "json"));
  }

  @Test
  void readsValuedOptionsFlagsAndPositionals() {
    Args a = parse("--image", "a.png", "--prompt=make it blue", "--wait", "extra");
    assertEquals("a.png", a.get("image"));
    assertEquals("make it blue", a.get("prompt"));
    assertTrue(a.flag("wait"));
    assertEquals(List.of("extra"), a.positional());
  }

  @Test
  void unknownOrMalformedOptionsAreRefusedClearly() {
    UsageException e = assertThrows(UsageException.class, () -> parse("--imgae", "a.png"));
    assertEquals("Unknown option --imgae for 'submit'. Run 'java -jar qwenedit.jar submit --help' to see its options.", e.getMessage());
    assertTrue(assertThrows(UsageException.class, () -> parse("--image")).getMessage().contains("needs a value"));
    assertTrue(assertThrows(UsageException.class, () -> parse("--wait=yes")).getMessage().contains("takes no value"));
    assertTrue(assertThrows(UsageException.class, () -> parse("-x")).getMessage().contains("two dashes"));
    assertTrue(assertThrows(UsageException.class, () -> parse("--timeout", "soon").seconds("timeout", 1)).getMessage()
        .contains("positive number of seconds"));
  }
}
