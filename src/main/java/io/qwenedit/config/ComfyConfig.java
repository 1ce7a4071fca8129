package io.qwenedit.config;

import java.net.URI;
import java.time.Duration;
import java.util.List;

/**
 * Where the ComfyUI servers are (one per GPU) and the three clocks that keep a job from hanging.
 *
 * @param urls one base URL per GPU: {@code COMFYUI_URLS} (comma-separated) or else {@code COMFYUI_URL}
 * @param timeout total execution limit per prompt ({@code COMFYUI_TIMEOUT})
 * @param pollInterval how often {@code /history} is asked when the socket is silent ({@code COMFYUI_POLL_INTERVAL})
 * @param stallTimeout running, but no message and no history change for this long ({@code COMFYUI_STALL_TIMEOUT})
 */
public record ComfyConfig(List<URI> urls, Duration timeout, Duration pollInterval, Duration stallTimeout) {

  static ComfyConfig from(Settings s) {
    List<URI> urls = s.urlList("COMFYUI_URLS", "http", "https");
    URI single = s.url("COMFYUI_URL", "http://127.0.0.1:8188", "http", "https");
    if (urls.isEmpty()) {
      urls = List.of(single);
    }
    return new ComfyConfig(
        List.copyOf(urls),
        s.seconds("COMFYUI_TIMEOUT", Duration.ofMinutes(5), Duration.ofSeconds(1), Duration.ofHours(6)),
        s.seconds("COMFYUI_POLL_INTERVAL", Duration.ofSeconds(2), Duration.ofMillis(50), Duration.ofMinutes(5)),
        s.seconds("COMFYUI_STALL_TIMEOUT", Duration.ofMinutes(3), Duration.ofSeconds(1), Duration.ofHours(6)));
  }
}
