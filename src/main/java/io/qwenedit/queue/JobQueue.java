package io.qwenedit.queue;

import io.qwenedit.config.QueueConfig;
import io.qwenedit.queue.QueueResults.Claim;
import io.qwenedit.queue.QueueResults.Claimed;
import io.qwenedit.queue.QueueResults.Completed;
import io.qwenedit.queue.QueueResults.Enqueued;
import io.qwenedit.queue.QueueResults.Lease;
import io.qwenedit.queue.QueueResults.Outcome;
import io.qwenedit.queue.QueueResults.Reaped;
import io.qwenedit.queue.QueueResults.Running;
import io.qwenedit.queue.QueueResults.Snapshot;
import io.qwenedit.redis.LuaScript;
import io.qwenedit.redis.RedisCommands;
import io.qwenedit.redis.RedisUnavailableException;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Redis job queue every role uses. Enqueue, claim, lease renewal, progress, completion, failure, release, cancel,
 * reaping and dead letters are each one Lua script, so a crash at any instant leaves a consistent state; every write
 * by a job's holder is fenced by the lease generation it was given at claim. Non-blocking: waiting for work is
 * {@link JobWaiter}'s job.
 */
public final class JobQueue {
  private static final Logger LOG = LoggerFactory.getLogger(JobQueue.class);
  private static final int REAP_LIMIT = 200;
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final char[] ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz".toCharArray();

  /** Batched calls: how many may be on their way at once, and how many jobs and image bytes one may carry. */
  private static final int BATCH_IN_FLIGHT = 6;
  private static final int BATCH_MAX_JOBS = 16;
  private static final long BATCH_MAX_BYTES = 4L << 20;
  private static final LuaScript ENQUEUE = LuaScript.load("enqueue");
  private static final LuaScript CLAIM = LuaScript.load("claim");
  private static final LuaScript RENEW = LuaScript.load("renew");
  private static final LuaScript PROGRESS = LuaScript.load("progress");
  private static final LuaScript COMPLETE = LuaScript.load("complete");
  private static final LuaScript FAIL = LuaScript.load("fail");
  private static final LuaScript RELEASE = LuaScript.load("release");
  private static final LuaScript REAP = LuaScript.load("reap");
  private static final LuaScript CANCEL = LuaScript.load("cancel");
  private static final LuaScript RETRY_DEAD = LuaScript.load("retry_dead");
  private static final LuaScript PURGE_DEAD = LuaScript.load("purge_dead");
  private static final int PURGE_BATCH = 500;

  private final RedisCommands redis;
  private final QueueConfig cfg;
  private final Keys keys;
  private final ImageStore images;
  /** What the scripts that may end a job take first (queue_context in lua/lib.lua): keys, keys with the marker, settings. */
  private final List<String> contextKeys;
  private final List<String> contextKeysWithMarker;
  private final List<Object> contextSettings;
  /** Enqueues and completions that arrive together go to Redis as one script call each (see {@link Batcher}). */
  private final Batcher<EnqueueCall, Response> enqueues;
  private final Batcher<CompleteCall, Response> completions;

  /** A queue whose images live in Redis, stored by its scripts with the jobs (the default). */
  public JobQueue(RedisCommands redis, QueueConfig cfg) {
    this(redis, cfg, null);
  }

  /** A queue whose images live in {@code images} (null: in Redis, {@link RedisImageStore}). */
  public JobQueue(RedisCommands redis, QueueConfig cfg, ImageStore images) {
    this.redis = redis;
    this.cfg = cfg;
    this.keys = new Keys(redis.config().prefix());
    this.images = images != null ? images : new RedisImageStore(redis, keys);
    this.contextKeys = List.of(keys.waiting(), keys.delayed(), keys.active(), keys.dead(), keys.outcomes(), keys.stats());
    List<String> withMarker = new ArrayList<>(contextKeys);
    withMarker.add(keys.marker());
    this.contextKeysWithMarker = List.copyOf(withMarker);
    this.contextSettings = List.of(keys.jobPrefix(), keys.imagePrefix(), keys.eventsChannel(), cfg.retention().toMillis(),
        cfg.eventsMaxLen(), cfg.deadRetention().toMillis(), cfg.deadMax(), imageRetentionMs());
    this.enqueues = new Batcher<>(BATCH_IN_FLIGHT, BATCH_MAX_JOBS, BATCH_MAX_BYTES, c -> c.image().length(),
        RedisUnavailableException.class::isInstance, this::sendEnqueues);
    this.completions = new Batcher<>(BATCH_IN_FLIGHT, BATCH_MAX_JOBS, BATCH_MAX_BYTES, c -> c.image().length(),
        RedisUnavailableException.class::isInstance, this::sendCompletions);
  }

  /** queue_context's settings, then the script's own arguments. */
  private List<Object> contextArgs(Object... own) {
    List<Object> args = new ArrayList<>(contextSettings.size() + own.length);
    args.addAll(contextSettings);
    args.addAll(List.of(own));
    return args;
  }

  public Keys keys() {
    return keys;
  }

  public QueueConfig config() {
    return cfg;
  }

  public RedisCommands redis() {
    return redis;
  }

  /** A short random job id (13 characters of Crockford base32, 65 bits). */
  public static String newId() {
    byte[] b = new byte[9];
    RANDOM.nextBytes(b);
    long bits = 0;
    for (int i = 0; i < 8; i++) {
      bits = bits << 8 | (b[i] & 0xFF);
    }
    char[] c = new char[13];
    for (int i = 0; i < 12; i++) {
      c[i] = ID_ALPHABET[(int) (bits >>> (i * 5)) & 31];
    }
    c[12] = ID_ALPHABET[((int) (bits >>> 60) & 15) | (b[8] & 16)];
    return new String(c);
  }

  // ---------------------------------------------------------------- enqueue

  /**
   * Checks the request against the limits, stores the image and queues the job. Fails with
   * {@link JobRejectedException} for bad input or a full queue; the same idempotency key twice gives the first job.
   */
  public Future<Enqueued> enqueue(NewJob req) {
    ImageInfo info;
    try {
      info = validate(req, cfg);
    } catch (JobRejectedException e) {
      return Future.failedFuture(e);
    }
    String idem = blankToNull(req.idempotencyKey());
    Future<Enqueued> existing = idem == null ? Future.succeededFuture(null) : findDuplicate(idem);
    return existing.compose(dup -> dup != null ? Future.succeededFuture(dup) : store(req, info, idem));
  }

  /** Validation of a request against the limits; the message tells the person what to change. */
  public static ImageInfo validate(NewJob req, QueueConfig cfg) {
    String prompt = req.prompt() == null ? "" : req.prompt().strip();
    if (prompt.isEmpty()) {
      throw new JobRejectedException("prompt_missing", "The edit instruction is empty: describe the change you want, e.g. \"make the sky purple\".");
    }
    if (prompt.codePointCount(0, prompt.length()) > cfg.maxPromptChars()) {
      throw new JobRejectedException("prompt_too_long", "The edit instruction is " + prompt.codePointCount(0, prompt.length())
          + " characters long; the limit is " + cfg.maxPromptChars() + ". Please shorten it.");
    }
    if (req.image() == null || req.image().length() == 0) {
      throw new JobRejectedException("image_missing", "No image was given: send a photo (" + ImageInfo.ACCEPTED + ").");
    }
    if (req.image().length() > cfg.maxImageBytes()) {
      throw new JobRejectedException("image_too_large", "The image is " + mb(req.image().length()) + "; the limit is "
          + mb(cfg.maxImageBytes()) + ". Please send a smaller image.");
    }
    ImageInfo info = ImageInfo.sniff(req.image());
    if (info == null) {
      throw new JobRejectedException("not_an_image", "The file is not a picture this service can read: send a "
          + ImageInfo.ACCEPTED + " image.");
    }
    if (info.pixels() > cfg.maxImagePixels()) {
      throw new JobRejectedException("image_too_many_pixels", "The image is " + info.width() + "x" + info.height() + " ("
          + String.format(java.util.Locale.ROOT, "%.1f", info.pixels() / 1e6) + " megapixels); the limit is "
          + String.format(java.util.Locale.ROOT, "%.1f", cfg.maxImagePixels() / 1e6) + " megapixels. Please send a smaller image.");
    }
    if (req.params() != null) {
      Object seed = req.params().getValue("seed");
      if (seed != null && !(seed instanceof Number)) {
        throw new JobRejectedException("bad_input", "The seed must be a whole number, not \"" + seed + "\".");
      }
      Object steps = req.params().getValue("steps");
      if (steps != null && (!(steps instanceof Number) || ((Number) steps).intValue() < 1 || ((Number) steps).intValue() > 200)) {
        throw new JobRejectedException("bad_input", "The number of steps must be a whole number from 1 to 200, not \"" + steps + "\".");
      }
    }
    return info;
  }

  private static String mb(long bytes) {
    return String.format(java.util.Locale.ROOT, "%.1f MB", bytes / (1024.0 * 1024.0));
  }

  private Future<Enqueued> findDuplicate(String idem) {
    return redis.send(Command.GET, keys.idempotency(idem)).compose(r -> {
      if (r == null) {
        return Future.succeededFuture(null);
      }
      String id = r.toString();
      return get(id).compose(job -> job == null ? Future.succeededFuture(null)
          : position(id).map(pos -> new Enqueued(id, pos == null ? -1 : pos, true)));
    });
  }

  private Future<Enqueued> store(NewJob req, ImageInfo info, String idem) {
    String id = newId();
    String inputRef = id + "-in." + info.extension();
    List<String> fields = new ArrayList<>();
    addField(fields, "prompt", req.prompt().strip());
    addField(fields, "input", inputRef);
    addField(fields, "input_info", info.toJson().encode());
    if (req.params() != null) {
      addField(fields, "params", req.params().encode());
    }
    if (blankToNull(req.workflow()) != null) {
      addField(fields, "workflow", req.workflow());
    }
    if (req.source() != null) {
      addField(fields, "source", req.source().encode());
    }
    if (idem != null) {
      addField(fields, "idem", idem);
    }
    // inline, the image travels inside the script call: it is stored only if the job is, with no time-to-live to manage
    EnqueueCall call = new EnqueueCall(id, idem == null ? 0 : cfg.retention().toMillis(),
        keys.idempotency(idem == null ? "-" : idem), keys.image(inputRef), images.inline() ? req.image() : Buffer.buffer(),
        fields);
    if (!images.inline()) {
      // stored first, the record keeps the reference; taken away again if the job is not queued after all
      return images.put(inputRef, req.image(), null)
          .compose(v -> runEnqueue(call, info, req))
          .transform(ar -> ar.succeeded() && ar.result().id().equals(id) ? Future.succeededFuture(ar.result())
              : withImageRemovedUnless(inputRef, ar, ar.succeeded() || ar.cause() instanceof JobRejectedException
                  ? Future.succeededFuture(false)
                  // no answer: the script may have run all the same, and then the job needs its image
                  : redis.send(Command.EXISTS, keys.job(id)).map(r -> r.toInteger() == 1)));
    }
    return runEnqueue(call, info, req);
  }

  /**
   * The outcome of a job whose image may not be needed, once that image is gone again unless {@code used} says the
   * record names it. When that cannot be told (Redis does not answer), the image stays: an orphan costs space until
   * the store's sweep, a missing image costs the person's edit.
   */
  private <T> Future<T> withImageRemovedUnless(String ref, AsyncResult<T> outcome, Future<Boolean> used) {
    return used.otherwise(true)
        .compose(keep -> keep ? Future.succeededFuture() : images.delete(ref).otherwiseEmpty())
        .transform(v -> outcome.succeeded() ? Future.succeededFuture(outcome.result()) : Future.failedFuture(outcome.cause()));
  }

  /** One request of a batched enqueue call (lua/enqueue.lua); {@code image} is empty when another store holds it. */
  private record EnqueueCall(String id, long idemTtlMs, String idemKey, String imageKey, Buffer image, List<String> fields) {}

  private Future<List<Response>> sendEnqueues(List<EnqueueCall> calls) {
    List<String> scriptKeys = new ArrayList<>(4 + 3 * calls.size());
    scriptKeys.addAll(List.of(keys.waiting(), keys.delayed(), keys.marker(), keys.seq()));
    List<Object> args = new ArrayList<>();
    args.add(keys.jobPrefix());
    args.add(cfg.maxDepth());
    for (EnqueueCall c : calls) {
      scriptKeys.add(keys.job(c.id()));
      scriptKeys.add(c.idemKey());
      scriptKeys.add(c.imageKey());
      args.add(c.id());
      args.add(c.idemTtlMs());
      args.add(c.image());
      args.add(c.fields().size() / 2);
      args.addAll(c.fields());
    }
    return redis.eval(ENQUEUE, scriptKeys, args).map(JobQueue::entries);
  }

  private Future<Enqueued> runEnqueue(EnqueueCall call, ImageInfo info, NewJob req) {
    return enqueues.submit(call).compose(r -> {
      String status = r.get(0).toString();
      switch (status) {
        case "ok":
          LOG.debug("job {} queued at position {} ({}x{} {}, prompt {} chars)", call.id(), r.get(2).toInteger(),
              info.width(), info.height(), info.format(), req.prompt().strip().length());
          return Future.succeededFuture(new Enqueued(call.id(), r.get(2).toInteger(), false));
        case "dup":
          return Future.succeededFuture(new Enqueued(r.get(1).toString(), r.get(2).toInteger(), true));
        default:
          return Future.failedFuture(new JobRejectedException("queue_full",
              "The service is busy: " + r.get(2).toLong() + " edits are waiting, the limit is " + cfg.maxDepth()
                  + ". Please try again in a few minutes."));
      }
    });
  }

  private static List<Response> entries(Response r) {
    List<Response> out = new ArrayList<>(r.size());
    r.forEach(out::add);
    return out;
  }

  private static void addField(List<String> args, String field, String value) {
    args.add(field);
    args.add(value);
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.strip();
  }

  // ---------------------------------------------------------------- claim and lease

  /**
   * Takes up to {@code max} jobs in FIFO order, recording holder and lease atomically. Records that cannot be read
   * (poison) are dead-lettered here with their reason and left out of the result.
   */
  public Future<Claim> claim(String holder, int max) {
    if (max <= 0) {
      return Future.succeededFuture(new Claim(List.of(), -1, false));
    }
    return redis.eval(CLAIM, contextKeysWithMarker, contextArgs(holder, cfg.lease().toMillis(), max)).compose(r -> {
      List<Claimed> jobs = new ArrayList<>();
      List<Future<?>> poison = new ArrayList<>();
      for (Response entry : r.get(0)) {
        Claimed c = claimed(entry, poison);
        if (c != null) {
          jobs.add(c);
        }
      }
      long nextDue = r.get(1).toLong();
      boolean more = r.size() > 2 && r.get(2).toInteger() == 1;
      return Future.join(poison).transform(ignored -> Future.succeededFuture(new Claim(jobs, nextDue, more)));
    });
  }

  /**
   * A job a script claimed ({id, fence, record}), or null when its record cannot be read (poison): that one is
   * dead-lettered with its reason, the write added to {@code poison}.
   */
  private Claimed claimed(Response entry, List<Future<?>> poison) {
    String id = entry.get(0).toString();
    long fence = entry.get(1).toLong();
    Map<String, String> hash = Job.hash(entry.get(2));
    try {
      return new Claimed(Job.fromHash(hash), fence);
    } catch (RuntimeException e) {
      // not only a PoisonRecordException: whatever a record makes the reading throw, the job is already leased by
      // the script, and failing this call would leave it to expire and come back to the same failure for ever
      String why;
      if (e instanceof Job.PoisonRecordException) {
        why = e.getMessage();
        LOG.warn("job {} has a broken record and goes to the dead-letter set: {}", id, why);
      } else {
        why = e.toString();
        LOG.error("job {}: reading its record failed unexpectedly (a bug?); it goes to the dead-letter set", id, e);
      }
      poison.add(terminate(id, fence, "dead", "poison_record",
          "The stored job record is broken (" + why + "); it cannot be run", 0));
      return null;
    }
  }

  /** Extends the lease; also records the GPU and ComfyUI prompt id when given (null to leave them). */
  public Future<Lease> renew(String id, long fence, String gpu, String promptId) {
    return redis.eval(RENEW, List.of(keys.active()), List.of(keys.jobPrefix(), id, fence, cfg.lease().toMillis(),
        gpu == null ? "" : gpu, promptId == null ? "" : promptId)).map(JobQueue::lease);
  }

  /** Records progress (e.g. {"value":7,"max":20}) and extends the lease. */
  public Future<Lease> progress(String id, long fence, JsonObject progress) {
    return redis.eval(PROGRESS, List.of(keys.active()), List.of(keys.jobPrefix(), id, fence, cfg.lease().toMillis(),
        keys.eventsChannel(), progress.encode())).map(JobQueue::lease);
  }

  private static Lease lease(Response r) {
    boolean held = r.get(0).toInteger() == 1;
    return held ? new Lease(true, "1".equals(r.get(1).toString()), "running") : new Lease(false, false, r.get(1).toString());
  }

  // ---------------------------------------------------------------- outcomes

  /**
   * Stores the result image and marks the job succeeded, in one step; refused (and nothing stored) if the caller's
   * lease was taken over.
   */
  public Future<Outcome> complete(String id, long fence, Buffer result, JsonObject resultInfo) {
    return completeAndClaim(id, fence, result, resultInfo, null).map(Completed::outcome);
  }

  /**
   * {@link #complete}, and in the same call claims the next job in line for {@code holder} (null: none), whatever
   * became of the completion: a consumer that frees a slot takes its next job with the same round trip (as BullMQ's
   * worker does), instead of a claim after the completion's answer. The next job is leased to {@code holder} exactly
   * as by {@link #claim}. None ({@code next() == null}) means nothing was taken for this slot: the line was empty, or
   * what the claim met was stale or broken (dead-lettered as by a claim); jobs still waiting are signalled on the
   * wake-up marker, so the caller waits as usual ({@link JobWaiter}). A completion whose answer was lost may be sent
   * again: a try that finds the job already succeeded with this fence takes no second job (the one the lost answer
   * carried stays leased until its lease runs out, then goes back without counting an attempt).
   */
  public Future<Completed> completeAndClaim(String id, long fence, Buffer result, JsonObject resultInfo,
                                            String holder) {
    if (result == null || result.length() == 0) {
      return Future.failedFuture(new IllegalArgumentException("job " + id + ": an empty result cannot complete a job"));
    }
    ImageInfo info = ImageInfo.sniff(result.slice(0, Math.min(result.length(), 65536)));
    String ref = id + "-out-" + fence + "." + (info == null ? "bin" : info.extension());
    JsonObject meta = resultInfo == null ? new JsonObject() : resultInfo.copy();
    if (info != null) {
      meta.mergeIn(info.toJson().put("bytes", result.length()));
    }
    String next = holder == null ? "" : holder;
    if (!images.inline()) {
      return images.put(ref, result, java.time.Duration.ofMillis(imageRetentionMs()))
          .compose(v -> runComplete(id, fence, ref, Buffer.buffer(), meta, next))
          .transform(ar -> ar.succeeded() && ar.result().outcome().accepted() ? Future.succeededFuture(ar.result())
              // refused, or no answer: the image stays if the record names it (an earlier call of this completion
              // succeeded, or this one ran although its answer was lost)
              : withImageRemovedUnless(ref, ar, redis.send(Command.HGET, keys.job(id), "result")
                  .map(r -> r != null && ref.equals(r.toString()))));
    }
    return runComplete(id, fence, ref, result, meta, next);
  }

  /** One request of a batched complete call (lua/complete.lua); {@code image} is empty when another store holds it. */
  private record CompleteCall(String id, long fence, String ref, Buffer image, String info, String nextHolder) {}

  private Future<List<Response>> sendCompletions(List<CompleteCall> calls) {
    List<Object> args = new ArrayList<>(contextSettings.size() + 1 + 6 * calls.size());
    args.addAll(contextSettings);
    args.add(cfg.lease().toMillis());
    for (CompleteCall c : calls) {
      args.addAll(List.of(c.id(), c.fence(), c.ref(), c.image(), c.info(), c.nextHolder()));
    }
    return redis.eval(COMPLETE, contextKeysWithMarker, args).map(JobQueue::entries);
  }

  private Future<Completed> runComplete(String id, long fence, String ref, Buffer inlineResult, JsonObject meta,
                                        String nextHolder) {
    return completions.submit(new CompleteCall(id, fence, ref, inlineResult, meta.encode(), nextHolder)).compose(r -> {
      Outcome o = outcome(r);
      if (!o.accepted()) {
        LOG.warn("job {}: result refused, the lease (fence {}) is no longer ours (state {})", id, fence, o.state());
      } else {
        LOG.debug("job {} succeeded", id);
      }
      if (r.size() < 3) {
        return Future.succeededFuture(new Completed(o, null));
      }
      List<Future<?>> poison = new ArrayList<>();
      Claimed next = claimed(r.get(2), poison);
      return Future.join(poison).transform(ignored -> Future.succeededFuture(new Completed(o, next)));
    });
  }

  /**
   * Ends an attempt with an error. Retryable: back to the queue after an exponential, jittered delay, or dead after
   * JOB_MAX_ATTEMPTS. Not retryable: failed at once.
   */
  public Future<Outcome> fail(String id, long fence, int attempts, JobError error) {
    long delay = Backoff.delay(attempts, cfg.retryBase(), cfg.retryMax(), ThreadLocalRandom.current()::nextDouble).toMillis();
    return terminate(id, fence, error.retryable() ? "auto" : "fail", error.code(), error.message(), delay)
        .onSuccess(o -> LOG.info("job {} attempt {} ended with {} ({}): {} -> {}", id, attempts, error.code(),
            error.retryable() ? "retryable" : "not retryable", error.message(), o.accepted() ? o.state() : "refused, lease lost"));
  }

  /** Sends a job straight to the dead-letter set (a record or input that can never work). */
  public Future<Outcome> deadLetter(String id, long fence, String code, String message) {
    return terminate(id, fence, "dead", code, message, 0);
  }

  /** The holder stopped the job because it was cancelled. */
  public Future<Outcome> finishCancelled(String id, long fence) {
    return terminate(id, fence, "cancelled", "cancelled", "Cancelled while running", 0);
  }

  private Future<Outcome> terminate(String id, long fence, String mode, String code, String message, long delayMs) {
    return redis.eval(FAIL, contextKeys, contextArgs(id, fence, mode, code, message, delayMs, cfg.maxAttempts()))
        .map(JobQueue::outcome);
  }

  /** Hands a running job back to its place in line without counting the attempt (shutdown, lost GPU slot). */
  public Future<Outcome> release(String id, long fence, String reason) {
    return redis.eval(RELEASE, contextKeysWithMarker, contextArgs(id, fence, reason)).map(JobQueue::outcome);
  }

  /** Images of finished jobs go after IMAGE_RETENTION, or with their record if that is sooner. */
  private long imageRetentionMs() {
    return Math.min(cfg.imageRetention().toMillis(), cfg.retention().toMillis());
  }

  private static Outcome outcome(Response r) {
    return new Outcome(r.get(0).toInteger() == 1, r.get(1).toString());
  }

  /**
   * Cancels a job: a queued one is removed at once ("cancelled"); a running one is flagged and its holder told on the
   * cancel channel ("requested"); otherwise returns the job's state, or "missing".
   */
  public Future<String> cancel(String id) {
    return redis.eval(CANCEL, contextKeys, contextArgs(keys.cancelChannel(), id)).map(r -> r.get(0).toString());
  }

  /** Returns expired leases to the queue (or the dead-letter set), promotes due retries, trims bounded sets. */
  public Future<Reaped> reap() {
    return redis.eval(REAP, contextKeysWithMarker, contextArgs(cfg.maxStalls(), cfg.maxAttempts(), REAP_LIMIT)).map(r -> {
          Reaped reaped = new Reaped(strings(r.get(0)), strings(r.get(1)), r.get(2).toInteger());
          reaped.requeued().forEach(id -> LOG.warn("job {}: its worker stopped renewing the lease; returned to the queue", id));
          reaped.dead().forEach(id -> LOG.warn("job {}: abandoned by workers too often; moved to the dead-letter set", id));
          return reaped;
        });
  }

  // ---------------------------------------------------------------- reads

  /** The job, or null when it does not exist (never queued, or expired after its retention). */
  public Future<Job> get(String id) {
    return redis.send(Command.HGETALL, keys.job(id)).map(r -> {
      Map<String, String> h = Job.hash(r);
      return h.isEmpty() ? null : Job.fromHash(h);
    });
  }

  /** 1 = next in line; null when the job is not waiting in line (running, finished, retry-delayed, unknown). */
  public Future<Integer> position(String id) {
    return redis.send(Command.ZRANK, keys.waiting(), id).map(r -> r == null ? null : r.toInteger() + 1);
  }

  /** Jobs waiting in line plus retry-delayed ones. */
  public Future<Long> depth() {
    return redis.batch(List.of(Request.cmd(Command.ZCARD).arg(keys.waiting()), Request.cmd(Command.ZCARD).arg(keys.delayed())))
        .map(rs -> rs.get(0).toLong() + rs.get(1).toLong());
  }

  /** An input or result image, or null when it is gone (expired), from the queue's {@link ImageStore}. */
  public Future<Buffer> image(String ref) {
    return images.get(ref);
  }

  /** Dead-lettered jobs, newest first (at most {@code limit}). */
  public Future<List<Job>> dead(int limit) {
    return redis.send(Command.ZREVRANGE, keys.dead(), 0, limit - 1).compose(r -> jobs(strings(r)));
  }

  /** Jobs by id, skipping those that no longer exist. */
  public Future<List<Job>> jobs(List<String> ids) {
    if (ids.isEmpty()) {
      return Future.succeededFuture(List.of());
    }
    List<Request> reqs = ids.stream().map(id -> Request.cmd(Command.HGETALL).arg(keys.job(id))).toList();
    return redis.batch(reqs).map(rs -> {
      List<Job> out = new ArrayList<>();
      for (int i = 0; i < rs.size(); i++) {
        Map<String, String> h = Job.hash(rs.get(i));
        if (h.isEmpty()) {
          continue;
        }
        try {
          out.add(Job.fromHash(h));
        } catch (Job.PoisonRecordException e) {
          LOG.warn("job {}: unreadable record: {}", ids.get(i), e.getMessage());
        }
      }
      return out;
    });
  }

  /** Puts a dead-lettered job back in line with fresh counters; false when it is not dead or its input is gone. */
  public Future<Outcome> retryDead(String id) {
    return redis.eval(RETRY_DEAD, List.of(keys.waiting(), keys.dead(), keys.marker(), keys.seq()),
        List.of(keys.jobPrefix(), keys.imagePrefix(), keys.eventsChannel(), id))
        .map(r -> r.get(0).toInteger() == 1 ? new Outcome(true, "queued") : new Outcome(false, r.get(1).toString()));
  }

  /** Retries every dead-lettered job; returns how many went back in line. */
  public Future<Integer> retryAllDead() {
    return redis.send(Command.ZRANGE, keys.dead(), 0, -1).compose(r -> {
      List<Future<Outcome>> all = strings(r).stream().map(this::retryDead).toList();
      return Future.all(all).map(cf -> (int) all.stream().filter(f -> f.result().accepted()).count());
    });
  }

  /** How many jobs are in the dead-letter set. */
  public Future<Long> deadCount() {
    return redis.send(Command.ZCARD, keys.dead()).map(Response::toLong);
  }

  /**
   * Deletes every dead-lettered job for good (record, images, idempotency key), {@value #PURGE_BATCH} per script call
   * so Redis is never blocked for long; returns how many were deleted. A job retried meanwhile is left alone.
   */
  public Future<Integer> purgeDead() {
    return purgeDead(0);
  }

  private Future<Integer> purgeDead(int soFar) {
    return redis.eval(PURGE_DEAD, List.of(keys.dead()), List.of(keys.jobPrefix(), keys.imagePrefix(), keys.idempotency(""), PURGE_BATCH))
        .compose(r -> {
          int total = soFar + r.get(0).toInteger();
          return r.get(1).toInteger() < PURGE_BATCH ? Future.succeededFuture(total) : purgeDead(total);
        });
  }

  /** Everything {@code status} shows but the bot and API instances. */
  public Future<Snapshot> snapshot(Registry workers) {
    return snapshot(workers, null);
  }

  /** Everything {@code status} shows, in three round trips (counts, then running jobs and registries side by side). */
  public Future<Snapshot> snapshot(Registry workers, Registry services) {
    List<Request> reqs = List.of(
        Request.cmd(Command.ZCARD).arg(keys.waiting()),
        Request.cmd(Command.ZCARD).arg(keys.delayed()),
        Request.cmd(Command.ZRANGE).arg(keys.active()).arg(0).arg(-1),
        Request.cmd(Command.ZCARD).arg(keys.dead()),
        Request.cmd(Command.GET).arg(keys.seq()),
        Request.cmd(Command.HGETALL).arg(keys.stats()),
        Request.cmd(Command.TIME));
    return redis.batch(reqs).compose(rs -> {
      List<String> active = strings(rs.get(2));
      JsonObject counters = new JsonObject().put("enqueued", rs.get(4) == null ? 0L : rs.get(4).toLong());
      Job.hash(rs.get(5)).forEach((k, v) -> counters.put(k, Long.parseLong(v)));
      long now = rs.get(6).get(0).toLong() * 1000 + rs.get(6).get(1).toLong() / 1000;
      Future<List<Running>> running = runningDetails(active);
      Future<JsonArray> ws = workers == null ? Future.succeededFuture(new JsonArray()) : workers.list();
      Future<JsonArray> ss = services == null ? Future.succeededFuture(new JsonArray()) : services.list();
      return Future.all(running, ws, ss).map(cf -> new Snapshot(rs.get(0).toLong(), rs.get(1).toLong(), running.result(),
          rs.get(3).toLong(), counters, ws.result(), ss.result(), now));
    });
  }

  private Future<List<Running>> runningDetails(List<String> ids) {
    if (ids.isEmpty()) {
      return Future.succeededFuture(List.of());
    }
    List<Request> reqs = ids.stream().map(id -> Request.cmd(Command.HMGET).arg(keys.job(id))
        .arg("holder").arg("gpu").arg("started_at").arg("lease_until").arg("progress")).toList();
    return redis.batch(reqs).map(rs -> {
      List<Running> out = new ArrayList<>();
      for (int i = 0; i < rs.size(); i++) {
        Response r = rs.get(i);
        out.add(new Running(ids.get(i), str(r.get(0)), str(r.get(1)), lng(r.get(2)), lng(r.get(3)), obj(r.get(4))));
      }
      return out;
    });
  }

  private static String str(Response r) {
    return r == null ? null : r.toString();
  }

  private static Long lng(Response r) {
    return r == null ? null : (long) Double.parseDouble(r.toString());
  }

  private static JsonObject obj(Response r) {
    try {
      return r == null ? null : new JsonObject(r.toString());
    } catch (RuntimeException e) {
      return null;
    }
  }

  static List<String> strings(Response r) {
    List<String> out = new ArrayList<>();
    if (r != null) {
      for (Response e : r) {
        out.add(e.toString());
      }
    }
    return out;
  }
}
