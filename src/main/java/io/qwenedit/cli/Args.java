package io.qwenedit.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A parsed command line: {@code --name value}, {@code --name=value}, boolean {@code --flag}, and positional words.
 * Options not declared by the command are refused with a message naming them.
 */
public final class Args {
  private final String command;
  private final Map<String, String> options = new LinkedHashMap<>();
  private final List<String> positional = new ArrayList<>();

  private Args(String command) {
    this.command = command;
  }

  /**
   * @param valued options that take a value (without dashes)
   * @param flags options that take none
   */
  public static Args parse(String command, List<String> argv, Set<String> valued, Set<String> flags) {
    Args a = new Args(command);
    for (int i = 0; i < argv.size(); i++) {
      String arg = argv.get(i);
      if ("--".equals(arg)) {
        a.positional.addAll(argv.subList(i + 1, argv.size()));
        break;
      }
      if (arg.startsWith("--") && arg.length() > 2) {
        String name = arg.substring(2);
        String value = null;
        int eq = name.indexOf('=');
        if (eq >= 0) {
          value = name.substring(eq + 1);
          name = name.substring(0, eq);
        }
        if (flags.contains(name)) {
          if (value != null) {
            throw new UsageException("Option --" + name + " of '" + command + "' takes no value. Run 'java -jar qwenedit.jar " + command + " --help'.");
          }
          a.options.put(name, "true");
        } else if (valued.contains(name)) {
          if (value == null) {
            if (i + 1 >= argv.size() || argv.get(i + 1).startsWith("--")) {
              throw new UsageException("Option --" + name + " of '" + command + "' needs a value. Run 'java -jar qwenedit.jar " + command + " --help'.");
            }
            value = argv.get(++i);
          }
          a.options.put(name, value);
        } else {
          throw new UsageException("Unknown option --" + name + " for '" + command + "'. Run 'java -jar qwenedit.jar " + command + " --help' to see its options.");
        }
      } else if (arg.startsWith("-") && arg.length() > 1 && !isNumber(arg)) {
        if ("-h".equals(arg)) {
          a.options.put("help", "true");
        } else {
          throw new UsageException("Unknown option " + arg + " for '" + command + "'. Options start with two dashes; run 'java -jar qwenedit.jar " + command + " --help'.");
        }
      } else {
        a.positional.add(arg);
      }
    }
    return a;
  }

  private static boolean isNumber(String s) {
    try {
      Double.parseDouble(s);
      return true;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  public String command() {
    return command;
  }

  public boolean flag(String name) {
    return options.containsKey(name);
  }

  public String get(String name) {
    return options.get(name);
  }

  public String get(String name, String fallback) {
    return options.getOrDefault(name, fallback);
  }

  public String required(String name, String what) {
    String v = options.get(name);
    if (v == null || v.isBlank()) {
      throw new UsageException("'" + command + "' needs --" + name + " " + what + ". Run 'java -jar qwenedit.jar " + command + " --help'.");
    }
    return v;
  }

  /** A positive number of seconds (decimals allowed). */
  public double seconds(String name, double fallback) {
    return seconds(name, fallback, false);
  }

  /** A number of seconds, 0 or more (decimals allowed). */
  public double secondsOrZero(String name, double fallback) {
    return seconds(name, fallback, true);
  }

  private double seconds(String name, double fallback, boolean zeroAllowed) {
    String v = options.get(name);
    if (v == null) {
      return fallback;
    }
    try {
      double d = Double.parseDouble(v);
      if ((zeroAllowed ? d >= 0 : d > 0) && !Double.isInfinite(d)) {
        return d;
      }
    } catch (NumberFormatException ignored) {
      // reported below
    }
    throw new UsageException("Option --" + name + " of '" + command + "' must be "
        + (zeroAllowed ? "a number of seconds (0 or more)" : "a positive number of seconds") + ", not \"" + v + "\".");
  }

  public int integer(String name, int fallback, int min, int max) {
    String v = options.get(name);
    if (v == null) {
      return fallback;
    }
    try {
      int n = Integer.parseInt(v);
      if (n >= min && n <= max) {
        return n;
      }
    } catch (NumberFormatException ignored) {
      // reported below
    }
    throw new UsageException("Option --" + name + " of '" + command + "' must be a whole number from " + min + " to " + max + ", not \"" + v + "\".");
  }

  public List<String> positional() {
    return positional;
  }

  public void noMorePositional(int allowed) {
    if (positional.size() > allowed) {
      throw new UsageException("Unexpected argument \"" + positional.get(allowed) + "\" for '" + command + "'. Run 'java -jar qwenedit.jar " + command + " --help'.");
    }
  }
}
