package io.qwenedit.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Where the ComfyUI servers are (one per GPU), which workflow they run, and the clocks that keep a job from hanging.
 *
 * @param urls one base URL per GPU: {@code COMFYUI_URLS} (comma-separated) or else {@code COMFYUI_URL}
 * @param timeout total execution limit per prompt, from the moment it starts running ({@code COMFYUI_TIMEOUT})
 * @param pollInterval how often {@code /history} is asked when the socket is silent ({@code COMFYUI_POLL_INTERVAL})
 * @param stallTimeout running, but no message and no history change for this long ({@code COMFYUI_STALL_TIMEOUT})
 * @param queueTimeout longest wait of our prompt in ComfyUI's own queue behind other work ({@code COMFYUI_QUEUE_TIMEOUT})
 * @param wedgeTimeout work queued and nothing finished for this long: the server is wedged
 *     ({@code COMFYUI_WEDGE_TIMEOUT}, default {@code COMFYUI_TIMEOUT})
 * @param requestTimeout time limit of one HTTP call to ComfyUI ({@code COMFYUI_REQUEST_TIMEOUT})
 * @param poolSize kept-alive HTTP connections per ComfyUI server ({@code COMFYUI_POOL_SIZE})
 * @param workflow the default workflow's name ({@code COMFYUI_WORKFLOW})
 * @param workflowsDir where operators' workflows are ({@code COMFYUI_WORKFLOWS_DIR}); the built-in ones are always there
 * @param dirs ComfyUI's base directories on this machine ({@code COMFYUI_DIR}, comma-separated; empty: not visible
 *     from here): the worker removes the files jobs leave in their {@code input/} and {@code output/}
 * @param filesMaxAge those files are removed once this old ({@code COMFYUI_FILES_MAX_AGE}); with {@code COMFYUI_DIR} set,
 *     longer than a prompt can wait and run ({@code COMFYUI_QUEUE_TIMEOUT} + {@code COMFYUI_TIMEOUT} + 10 min), so a
 *     file in use is never removed
 */
public record ComfyConfig(List<URI> urls, Duration timeout, Duration pollInterval, Duration stallTimeout,
    Duration queueTimeout, Duration wedgeTimeout, Duration requestTimeout, int poolSize, String workflow, Path workflowsDir,
    List<Path> dirs, Duration filesMaxAge) {

  private static final Duration FILES_IN_USE_MARGIN = Duration.ofMinutes(10);

  static ComfyConfig from(Settings s) {
    List<URI> urls = s.urlList("COMFYUI_URLS", "http", "https");
    URI single = s.url("COMFYUI_URL", "http://127.0.0.1:8188", "http", "https");
    if (urls.isEmpty()) {
      urls = List.of(single);
    }
    Duration timeout = s.seconds("COMFYUI_TIMEOUT", Duration.ofMinutes(5), Duration.ofSeconds(1), Duration.ofHours(6));
    String workflow = s.string("COMFYUI_WORKFLOW", "qwen-image-edit");
    if (!workflow.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
      throw new ConfigException("Invalid setting COMFYUI_WORKFLOW=\"" + workflow + "\" (from " + s.source("COMFYUI_WORKFLOW")
          + "): expected a workflow name (letters, digits, '.', '_', '-'), the file name without .json");
    }
    Duration queueTimeout = s.seconds("COMFYUI_QUEUE_TIMEOUT", Duration.ofMinutes(10), Duration.ofSeconds(1), Duration.ofHours(24));
    Duration filesMaxAge = s.seconds("COMFYUI_FILES_MAX_AGE", Duration.ofHours(1), Duration.ofSeconds(1), Duration.ofDays(365));
    List<Path> dirs = s.list("COMFYUI_DIR").stream().map(Path::of).toList();
    // only where files are removed: a prompt's files are in use from its upload while it waits and runs (plus a margin
    // for the steps around it)
    Duration inUse = queueTimeout.plus(timeout).plus(FILES_IN_USE_MARGIN);
    if (!dirs.isEmpty() && filesMaxAge.compareTo(inUse) <= 0) {
      throw new ConfigException("Invalid setting COMFYUI_FILES_MAX_AGE=" + s.string("COMFYUI_FILES_MAX_AGE", "1h") + " (from "
          + s.source("COMFYUI_FILES_MAX_AGE") + "): with COMFYUI_DIR set it must be longer than COMFYUI_QUEUE_TIMEOUT +"
          + " COMFYUI_TIMEOUT + 10 min (" + inUse.toSeconds() + " s), or the files of a prompt still waiting or running"
          + " could be removed");
    }
    return new ComfyConfig(
        List.copyOf(urls),
        timeout,
        s.seconds("COMFYUI_POLL_INTERVAL", Duration.ofSeconds(2), Duration.ofMillis(50), Duration.ofMinutes(5)),
        s.seconds("COMFYUI_STALL_TIMEOUT", Duration.ofMinutes(3), Duration.ofSeconds(1), Duration.ofHours(6)),
        queueTimeout,
        s.seconds("COMFYUI_WEDGE_TIMEOUT", timeout, Duration.ofSeconds(1), Duration.ofHours(24)),
        s.seconds("COMFYUI_REQUEST_TIMEOUT", Duration.ofSeconds(30), Duration.ofMillis(100), Duration.ofMinutes(10)),
        (int) s.integer("COMFYUI_POOL_SIZE", 4, 1, 64),
        workflow,
        Path.of(s.string("COMFYUI_WORKFLOWS_DIR", "conf/workflows")),
        dirs,
        filesMaxAge);
  }
}
