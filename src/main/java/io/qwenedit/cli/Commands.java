package io.qwenedit.cli;

import java.util.List;

/** Every command the jar knows, in the order --help lists them. Add new commands here. */
public final class Commands {
  /** @param service a long-running role (logs to stdout at INFO, keeps running) rather than a one-shot tool */
  public record Entry(Command command, boolean service) {}

  private static final List<Entry> ALL = List.of(
      new Entry(new SubmitCommand(), false),
      new Entry(new StatusCommand(), false),
      new Entry(new JobsCommand(), false),
      new Entry(new DoctorCommand(), false),
      new Entry(new io.qwenedit.worker.WorkerCommand(), true),
      new Entry(new ApiCommand(), true),
      new Entry(new BotCommand(), true),
      new Entry(new AllCommand(), true),
      new Entry(new DemoCommand(), true),
      new Entry(new EmulatorCommand(), true));

  private Commands() {}

  public static List<Entry> all() {
    return ALL;
  }

  public static Entry find(String name) {
    return ALL.stream().filter(e -> e.command().name().equals(name)).findFirst().orElse(null);
  }

  public static List<String> names() {
    return ALL.stream().map(e -> e.command().name()).toList();
  }
}
