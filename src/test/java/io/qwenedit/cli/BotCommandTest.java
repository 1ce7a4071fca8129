package io.qwenedit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BotCommandTest {
  private record Run(int code, String out, String err) {}

  private static Run run(Map<String, String> env, String... args) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Path dir = Files.createTempDirectory("qwenedit-bot-cli");
    int code = Main.run(List.of(args), new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), env, dir, false);
    return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void withoutATokenTheBotDoesNotStartAndSaysWhyInOneLine() throws Exception {
    Run r = run(Map.of(), "bot");
    assertEquals(ExitCodes.USAGE, r.code());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    assertTrue(r.err().startsWith("Missing setting TELEGRAM_BOT_TOKEN"), r.err());
  }

  @Test
  void aMalformedTokenIsRefusedWithoutPrintingIt() throws Exception {
    Run r = run(Map.of("TELEGRAM_BOT_TOKEN", "oops-this-is:not-a-token"), "bot");
    assertEquals(ExitCodes.USAGE, r.code());
    assertFalse(r.err().contains("oops"), r.err());
    assertTrue(r.err().startsWith("Invalid setting TELEGRAM_BOT_TOKEN"), r.err());
  }

  @Test
  void theBotIsListedAndHasHelp() throws Exception {
    assertTrue(run(Map.of(), "--help").out().contains("bot "));
    Run help = run(Map.of(), "bot", "--help");
    assertEquals(ExitCodes.OK, help.code());
    assertTrue(help.out().contains("TELEGRAM_BOT_TOKEN"));
  }
}
