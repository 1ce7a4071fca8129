package io.qwenedit.comfy;

import io.qwenedit.comfy.workflow.WorkflowCatalog;
import io.qwenedit.config.ComfyConfig;
import java.time.Duration;
import java.util.UUID;

/**
 * How a {@link ComfyClient} talks to its server: the clocks, the HTTP limits, its WebSocket client id and the
 * workflows it can run. Built from {@link ComfyConfig}; the {@code with...} methods return a changed copy.
 *
 * @param timeout execution limit of one prompt, from when it starts running ({@code COMFYUI_TIMEOUT})
 * @param pollInterval {@code /history} is asked this often while the socket is silent ({@code COMFYUI_POLL_INTERVAL})
 * @param stallTimeout running with no message and no history change for this long: stalled ({@code COMFYUI_STALL_TIMEOUT})
 * @param queueTimeout longest wait in ComfyUI's own queue behind other work ({@code COMFYUI_QUEUE_TIMEOUT})
 * @param wedgeTimeout for the probe: work queued and nothing finished for this long ({@code COMFYUI_WEDGE_TIMEOUT})
 * @param requestTimeout limit of one HTTP call (uploads and downloads get three times this) ({@code COMFYUI_REQUEST_TIMEOUT})
 * @param poolSize kept-alive HTTP connections ({@code COMFYUI_POOL_SIZE})
 * @param clientId the WebSocket {@code clientId} and the prompts' {@code client_id}. Keep it stable for one GPU across
 *     restarts of the worker: a re-dispatch then gets the events of the prompt it follows
 * @param workflows the workflow catalog (with the default workflow)
 * @param pingInterval WebSocket ping period; three silent periods close and reconnect the socket
 * @param interruptConfirmTimeout how long an interrupted prompt may take to stop before the client gives up waiting
 * @param uploadSubfolder the subfolder of ComfyUI's input directory uploads go to, and of its output directory results
 *     are saved to
 */
public record ComfyClientOptions(Duration timeout, Duration pollInterval, Duration stallTimeout, Duration queueTimeout,
    Duration wedgeTimeout, Duration requestTimeout, int poolSize, String clientId, WorkflowCatalog workflows, Duration pingInterval,
    Duration interruptConfirmTimeout, String uploadSubfolder) {

  public static ComfyClientOptions from(ComfyConfig c, WorkflowCatalog workflows) {
    return new ComfyClientOptions(c.timeout(), c.pollInterval(), c.stallTimeout(), c.queueTimeout(), c.wedgeTimeout(),
        c.requestTimeout(), c.poolSize(), "qwenedit-" + UUID.randomUUID(), workflows, Duration.ofSeconds(15), Duration.ofSeconds(15),
        ComfyFiles.SUBFOLDER);
  }

  public ComfyClientOptions withTimeout(Duration d) {
    return new ComfyClientOptions(d, pollInterval, stallTimeout, queueTimeout, wedgeTimeout, requestTimeout, poolSize, clientId, workflows, pingInterval, interruptConfirmTimeout, uploadSubfolder);
  }

  public ComfyClientOptions withPollInterval(Duration d) {
    return new ComfyClientOptions(timeout, d, stallTimeout, queueTimeout, wedgeTimeout, requestTimeout, poolSize, clientId, workflows, pingInterval, interruptConfirmTimeout, uploadSubfolder);
  }

  public ComfyClientOptions withStallTimeout(Duration d) {
    return new ComfyClientOptions(timeout, pollInterval, d, queueTimeout, wedgeTimeout, requestTimeout, poolSize, clientId, workflows, pingInterval, interruptConfirmTimeout, uploadSubfolder);
  }

  public ComfyClientOptions withQueueTimeout(Duration d) {
    return new ComfyClientOptions(timeout, pollInterval, stallTimeout, d, wedgeTimeout, requestTimeout, poolSize, clientId, workflows, pingInterval, interruptConfirmTimeout, uploadSubfolder);
  }

  public ComfyClientOptions withWedgeTimeout(Duration d) {
    return new ComfyClientOptions(timeout, pollInterval, stallTimeout, queueTimeout, d, requestTimeout, poolSize, clientId, workflows, pingInterval, interruptConfirmTimeout, uploadSubfolder);
  }

  public ComfyClientOptions withRequestTimeout(Duration d) {
    return new ComfyClientOptions(timeout, pollInterval, stallTimeout, queueTimeout, wedgeTimeout, d, poolSize, clientId, workflows, pingInterval, interruptConfirmTimeout, uploadSubfolder);
  }

  public ComfyClientOptions withPoolSize(int n) {
    return new ComfyClientOptions(timeout, pollInterval, stallTimeout, queueTimeout, wedgeTimeout, requestTimeout, n, clientId, workflows, pingInterval, interruptConfirmTimeout, uploadSubfolder);
  }

  public ComfyClientOptions withClientId(String id) {
    return new ComfyClientOptions(timeout, pollInterval, stallTimeout, queueTimeout, wedgeTimeout, requestTimeout, poolSize, id, workflows, pingInterval, interruptConfirmTimeout, uploadSubfolder);
  }

  public ComfyClientOptions withWorkflows(WorkflowCatalog w) {
    return new ComfyClientOptions(timeout, pollInterval, stallTimeout, queueTimeout, wedgeTimeout, requestTimeout, poolSize, clientId, w, pingInterval, interruptConfirmTimeout, uploadSubfolder);
  }

  public ComfyClientOptions withPingInterval(Duration d) {
    return new ComfyClientOptions(timeout, pollInterval, stallTimeout, queueTimeout, wedgeTimeout, requestTimeout, poolSize, clientId, workflows, d, interruptConfirmTimeout, uploadSubfolder);
  }

  public ComfyClientOptions withInterruptConfirmTimeout(Duration d) {
    return new ComfyClientOptions(timeout, pollInterval, stallTimeout, queueTimeout, wedgeTimeout, requestTimeout, poolSize, clientId, workflows, pingInterval, d, uploadSubfolder);
  }
}
