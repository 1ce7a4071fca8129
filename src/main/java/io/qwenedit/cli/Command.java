package io.qwenedit.cli;

import java.util.Set;

/** One {@code qwenedit <command>}: its name, a one-line summary for --help, its usage text, and what it does. */
public interface Command {
  String name();

  String summary();

  /** Full help: synopsis, options, examples. */
  String usage();

  /** Options that take a value ({@code --out FILE}); none unless the command says so. */
  default Set<String> valuedOptions() {
    return Set.of();
  }

  /** Options that stand alone ({@code --json}); none unless the command says so ({@code --help} always exists). */
  default Set<String> flagOptions() {
    return Set.of();
  }

  /** Runs the command; returns the process exit code (see {@link ExitCodes}). */
  int run(Args args, CliContext ctx) throws Exception;
}
