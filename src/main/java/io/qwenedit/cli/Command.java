package io.qwenedit.cli;

import java.util.Set;

/** One {@code qwenedit <command>}: its name, a one-line summary for --help, its usage text, and what it does. */
public interface Command {
  String name();

  String summary();

  /** Full help: synopsis, options, examples. */
  String usage();

  Set<String> valuedOptions();

  Set<String> flagOptions();

  /** Runs the command; returns the process exit code (see {@link ExitCodes}). */
  int run(Args args, CliContext ctx) throws Exception;
}
