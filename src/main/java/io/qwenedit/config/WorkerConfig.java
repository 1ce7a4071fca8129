package io.qwenedit.config;

import java.time.Duration;

/**
 * The worker role's own settings.
 *
 * @param gpuLockTimeout time-to-live of a GPU's Redis lease lock ({@code WORKER_GPU_LOCK_TIMEOUT}), renewed while held
 * @param logLevel our loggers' level ({@code WORKER_LOG_LEVEL})
 * @param workerId this process's identity in Redis (default: host name + pid)
 * @param shutdownGrace how long SIGTERM waits for running jobs before handing them back
 */
public record WorkerConfig(Duration gpuLockTimeout, String logLevel, String workerId, Duration shutdownGrace) {

  static WorkerConfig from(Settings s) {
    return new WorkerConfig(
        s.seconds("WORKER_GPU_LOCK_TIMEOUT", Duration.ofSeconds(30), Duration.ofSeconds(2), Duration.ofHours(1)),
        s.choice("WORKER_LOG_LEVEL", "INFO", "TRACE", "DEBUG", "INFO", "WARN", "ERROR"),
        s.string("WORKER_ID", defaultWorkerId()),
        s.seconds("WORKER_SHUTDOWN_GRACE", Duration.ofSeconds(30), Duration.ZERO, Duration.ofHours(1)));
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
}
