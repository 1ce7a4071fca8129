package io.qwenedit.queue;

/**
 * Every Redis key and channel qwenedit uses, built from the configured prefix. Queue keys share the hash tag
 * {@code {q}}, so each Lua script touches one hash slot (Redis Cluster-ready). Documented in docs/redis-keys.md.
 */
public final class Keys {
  private final String prefix;
  private final String q;

  public Keys(String prefix) {
    this.prefix = prefix;
    this.q = prefix + "{q}:";
  }

  public String prefix() {
    return prefix;
  }

  public String waiting() {
    return q + "wait";
  }

  public String delayed() {
    return q + "delayed";
  }

  public String active() {
    return q + "active";
  }

  public String marker() {
    return q + "marker";
  }

  public String dead() {
    return q + "dead";
  }

  public String seq() {
    return q + "seq";
  }

  public String stats() {
    return q + "stats";
  }

  /** Stream of job outcomes (succeeded, failed, dead, cancelled), trimmed to EVENTS_MAX_LEN. */
  public String outcomes() {
    return q + "outcomes";
  }

  public String jobPrefix() {
    return q + "job:";
  }

  public String job(String id) {
    return jobPrefix() + id;
  }

  public String idempotency(String key) {
    return q + "idem:" + key;
  }

  public String imagePrefix() {
    return q + "img:";
  }

  public String image(String ref) {
    return imagePrefix() + ref;
  }

  /** Pub/sub channel: every job event (queued, running, progress, retrying, outcome) as JSON. */
  public String eventsChannel() {
    return prefix + "events";
  }

  /** Pub/sub channel: ids of running jobs a user cancelled; the holder interrupts ComfyUI. */
  public String cancelChannel() {
    return prefix + "cancel";
  }

  public String workers() {
    return prefix + "workers";
  }

  public String worker(String id) {
    return prefix + "worker:" + id;
  }

  /** Index of live bot and API instances (sorted set, score = last announce). */
  public String services() {
    return prefix + "services";
  }

  public String service(String id) {
    return prefix + "service:" + id;
  }
}
