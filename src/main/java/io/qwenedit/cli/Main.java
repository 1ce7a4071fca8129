package io.qwenedit.cli;

import io.qwenedit.config.ConfigException;
import io.qwenedit.redis.RedisUnavailableException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The single entry point of {@code qwenedit.jar}: dispatches to a command, maps failures to clear messages and exit codes. */
public final class Main {
  public static final String VERSION = Main.class.getPackage().getImplementationVersion() == null ? "dev"
      : Main.class.getPackage().getImplementationVersion();

  private Main() {}

  public static void main(String[] argv) {
    List<String> args = List.of(argv);
    String name = args.isEmpty() ? "" : args.get(0);
    Commands.Entry entry = Commands.find(name);
    Logging.prepare(entry != null && entry.service());
    int code = run(args, System.out, System.err, System.in, System.getenv(), Path.of("").toAbsolutePath(), System.console() != null);
    if (code != ExitCodes.OK || entry == null || !entry.service()) {
      System.exit(code);
    }
  }

  /** Runs a command line; never throws, never calls System.exit (tests call this directly). */
  public static int run(List<String> argv, PrintStream out, PrintStream err, Map<String, String> env, Path workDir, boolean terminal) {
    return run(argv, out, err, InputStream.nullInputStream(), env, workDir, terminal);
  }

  /** The same, with the stream a confirmation prompt reads from. */
  public static int run(List<String> argv, PrintStream out, PrintStream err, InputStream in, Map<String, String> env, Path workDir,
      boolean terminal) {
    List<String> args = new ArrayList<>(argv);
    Path configFile = null;
    int at = args.indexOf("--config");
    if (at >= 0) {
      if (at + 1 >= args.size()) {
        err.println("Option --config needs a file name.");
        return ExitCodes.USAGE;
      }
      configFile = workDir.resolve(args.get(at + 1));
      args.remove(at + 1);
      args.remove(at);
    }
    if (args.isEmpty() || List.of("--help", "-h", "help").contains(args.get(0))) {
      if (args.size() > 1 && "help".equals(args.get(0)) && Commands.find(args.get(1)) != null) {
        out.print(Commands.find(args.get(1)).command().usage());
        return ExitCodes.OK;
      }
      out.print(overview());
      return args.isEmpty() ? ExitCodes.USAGE : ExitCodes.OK;
    }
    if (List.of("--version", "version").contains(args.get(0))) {
      out.println("qwenedit " + VERSION);
      return ExitCodes.OK;
    }
    Commands.Entry entry = Commands.find(args.get(0));
    if (entry == null) {
      err.println("Unknown command '" + args.get(0) + "'. Commands: " + String.join(", ", Commands.names())
          + ". Run 'java -jar qwenedit.jar --help'.");
      return ExitCodes.USAGE;
    }
    Command cmd = entry.command();
    CliContext ctx = new CliContext(out, err, in, env, workDir, configFile, terminal);
    try {
      Args parsed = Args.parse(cmd.name(), args.subList(1, args.size()), cmd.valuedOptions(), withHelp(cmd));
      if (parsed.flag("help")) {
        out.print(cmd.usage());
        return ExitCodes.OK;
      }
      return cmd.run(parsed, ctx);
    } catch (UsageException | ConfigException e) {
      err.println(e.getMessage());
      return ExitCodes.USAGE;
    } catch (RedisUnavailableException e) {
      err.println(e.connectionLost()
          ? e.getMessage() + ". Is redis-server running there? Set REDIS_URL or REDIS_HOST/REDIS_PORT."
          // it answered: loading its data, a read-only replica, full, unable to persist...
          : e.getMessage() + " Try again in a moment; if it lasts, see Redis's own log.");
      return ExitCodes.UNAVAILABLE;
    } catch (Throwable e) {
      // Redis error replies (WRONGPASS, NOAUTH...) are Throwables, not Exceptions: they must end here too, or the
      // JVM stays up with its Vert.x threads and the command never returns
      if (isAuthError(e)) {
        err.println(cmd.name() + " failed: Redis refused the credentials (" + describe(e)
            + "). Check REDIS_PASSWORD or the user and password in REDIS_URL.");
        return ExitCodes.UNAVAILABLE;
      }
      err.println(cmd.name() + " failed: " + describe(e));
      return ExitCodes.FAILED;
    }
  }

  private static java.util.Set<String> withHelp(Command cmd) {
    java.util.Set<String> flags = new java.util.HashSet<>(cmd.flagOptions());
    flags.add("help");
    return flags;
  }

  private static boolean isAuthError(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      String m = t.getMessage();
      if (m != null && (m.startsWith("WRONGPASS") || m.startsWith("NOAUTH") || m.startsWith("NOPERM"))) {
        return true;
      }
    }
    return false;
  }

  static String describe(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && (t.getMessage() == null || t.getMessage().isBlank())) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
  }

  static String overview() {
    StringBuilder sb = new StringBuilder();
    sb.append("qwenedit ").append(VERSION).append(" - photo edits (\"make the sky purple\") through a Redis job queue,\n")
        .append("GPU workers and ComfyUI running Qwen-Image-Edit.\n\n")
        .append("Usage: java -jar qwenedit.jar <command> [options]\n")
        .append("       java -jar qwenedit.jar <command> --help     (options of one command)\n\n")
        .append("Commands:\n");
    for (Commands.Entry e : Commands.all()) {
      sb.append(String.format("  %-10s %s%n", e.command().name(), e.command().summary()));
    }
    sb.append("\nGlobal options:\n")
        .append("  --config FILE   configuration file (default: conf/config.json in the working directory)\n")
        .append("  --help          this text\n")
        .append("  --version       print the version\n\n")
        .append("Settings come from conf/config.json, a .env file and the environment (the environment wins);\n")
        .append("see docs/configuration.md. Exit codes: 0 ok, 1 failed, 2 bad usage or configuration,\n")
        .append("3 Redis unreachable, 4 timed out.\n");
    return sb.toString();
  }
}
