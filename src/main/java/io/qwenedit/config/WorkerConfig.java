package io.qwenedit.config;

import java.time.Duration;

/**
 * The worker role's own settings.
 *
 * @param gpuLockTimeout time-to-live of a GPU's Redis lease lock ({@code WORKER_GPU_LOCK_TIMEOUT}), renewed while held
 * @param logLevel our loggers' level ({@code WORKER_LOG_LEVEL})
 * @param workerId this process's identity in Redis (default: host name + pid)
 * @param shutdownGrace how long SIGTERM waits for running jobs before handing them back
 * @param heartbeatInterval how often Redis and every ComfyUI are probed and this worker's entry is refreshed
 * @param comfyCommand command that starts one ComfyUI ({port}, {gpu}, {url} are replaced per GPU); empty: not ours
 * @param comfyRestartAfter a supervised ComfyUI wedged or unreachable this long is restarted
 * @param testSwitches test-only event-bus switches that make a verticle stall (never on in production)
 */
public record WorkerConfig(Duration gpuLockTimeout, String logLevel, String workerId, Duration shutdownGrace,
                           Duration heartbeatInterval, String comfyCommand, Duration comfyRestartAfter, boolean testSwitches) {

  static WorkerConfig from(Settings s) {
    return new WorkerConfig(
        s.seconds("WORKER_GPU_LOCK_TIMEOUT", Duration.ofSeconds(30), Duration.ofSeconds(2), Duration.ofHours(1)),
        s.choice("WORKER_LOG_LEVEL", "INFO", "TRACE", "DEBUG", "INFO", "WARN", "ERROR"),
        s.string("WORKER_ID", defaultWorkerId()),
        s.seconds("WORKER_SHUTDOWN_GRACE", Duration.ofSeconds(30), Duration.ZERO, Duration.ofHours(1)),
        s.seconds("WORKER_HEARTBEAT_INTERVAL", Duration.ofSeconds(5), Duration.ofMillis(200), Duration.ofMinutes(5)),
        s.string("COMFYUI_COMMAND", ""),
        s.seconds("COMFYUI_RESTART_AFTER", Duration.ofSeconds(60), Duration.ofSeconds(1), Duration.ofHours(1)),
        s.bool("WORKER_TEST_SWITCHES", false));
  }

  static String defaultWorkerId() {
    String host;
    try {
      host = java.net.InetAddress.getLocalHost().getHostName();
    } catch (Exception e) {
      host = "worker";
    }
    return host + "-" + ProcessHandle.current().pid();
  }

  public boolean supervisesComfy() {
    return comfyCommand != null && !comfyCommand.isBlank();
  }
}
