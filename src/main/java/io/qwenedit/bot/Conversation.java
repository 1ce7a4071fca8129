package io.qwenedit.bot;

import io.qwenedit.bot.Incoming.Callback;
import io.qwenedit.bot.Incoming.Command;
import io.qwenedit.bot.Incoming.FileRef;
import io.qwenedit.bot.Incoming.Image;
import io.qwenedit.bot.Incoming.MemberStatus;
import io.qwenedit.bot.Incoming.Refused;
import io.qwenedit.bot.Incoming.Text;
import io.qwenedit.bot.Incoming.TooLarge;
import io.qwenedit.config.BotConfig;
import io.qwenedit.config.QueueConfig;
import io.qwenedit.queue.Job;
import io.qwenedit.queue.JobQueue;
import io.qwenedit.queue.JobRejectedException;
import io.qwenedit.queue.NewJob;
import io.qwenedit.queue.QueueResults.Enqueued;
import io.qwenedit.queue.QueueResults.Snapshot;
import io.qwenedit.queue.Registry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the bot does with each kind of update: commands, photos and files with or without a caption, instructions for
 * a waiting photo, button presses. Every answer goes through the {@link Outbox}; every piece of state through the
 * {@link BotStore} and the {@link JobQueue}. Redis failures propagate (the verticle keeps the update for later);
 * everything else ends in a message the person understands.
 */
final class Conversation {
  private static final Logger LOG = LoggerFactory.getLogger(Conversation.class);
  private static final SecureRandom RANDOM = new SecureRandom();
  /** How long the intake waits for the status message before queuing without one (a 429 must not stall intake). */
  private static final java.time.Duration PLACEHOLDER_PATIENCE = java.time.Duration.ofSeconds(20);

  private final Vertx vertx;
  private final BotConfig cfg;
  private final QueueConfig queueCfg;
  private final String botId;
  private final JobQueue queue;
  private final Registry workers;
  private final BotStore store;
  private final Outbox outbox;
  private final TelegramClient telegram;

  Conversation(Vertx vertx, BotConfig cfg, QueueConfig queueCfg, JobQueue queue, Registry workers, BotStore store,
               Outbox outbox, TelegramClient telegram) {
    this.vertx = vertx;
    this.cfg = cfg;
    this.queueCfg = queueCfg;
    this.botId = cfg.botId();
    this.queue = queue;
    this.workers = workers;
    this.store = store;
    this.outbox = outbox;
    this.telegram = telegram;
  }

  String lang(Incoming in) {
    return Texts.language(in.languageCode(), cfg.defaultLanguage());
  }

  /** Handles one update; resolves once its effects are stored (answers may still be on their way). */
  Future<Void> handle(Incoming in) {
    if (in.chatId() == 0 || in.intent() instanceof Incoming.Ignored) {
      return Future.succeededFuture();
    }
    String lang = lang(in);
    if (in.intent() instanceof MemberStatus m) {
      return "kicked".equals(m.status()) || "left".equals(m.status()) ? store.markBlocked(in.chatId(), "blocked by the user")
          : store.unblock(in.chatId());
    }
    if (cfg.bannedUsers().contains(in.userId())) {
      return refuse(in, lang, "banned");
    }
    if (!cfg.allowedUsers().isEmpty() && !cfg.allowedUsers().contains(in.userId()) && !cfg.isAdmin(in.userId())) {
      return refuse(in, lang, "not_allowed");
    }
    if (in.intent() instanceof Callback cb) {
      // "Again" on an earlier result starts an edit too: the bans apply to buttons as to messages.
      return store.banned(in.userId()).compose(banned -> banned ? refuse(in, lang, "banned") : onCallback(in, lang, cb));
    }
    if (in.intent() instanceof Command c && ("start".equals(c.name()) || "help".equals(c.name()))) {
      // Needs nothing from Redis: answers even while Redis is down.
      return send(in.chatId(), "start".equals(c.name()) ? Texts.get(lang, "start", "help", help(lang)) : help(lang));
    }
    return store.arrived(in.userId(), in.chatId()).compose(banned -> {
      if (banned) {
        return say(in, lang, "banned");
      }
      if (in.intent() instanceof Command c) {
        return onCommand(in, lang, c);
      }
      if (in.intent() instanceof Image img) {
        return onImage(in, lang, img);
      }
      if (in.intent() instanceof Text t) {
        return onText(in, lang, t.text());
      }
      if (in.intent() instanceof Refused r) {
        return send(in.chatId(), Texts.get(lang, r.textKey(), "kind", r.kind()));
      }
      if (in.intent() instanceof TooLarge t) {
        return send(in.chatId(), Texts.get(lang, "file_too_big", "size", mb(t.size()), "max", mb(t.max())));
      }
      return Future.succeededFuture();
    });
  }

  String help(String lang) {
    long maxBytes = Math.min(queueCfg.maxImageBytes(), Incoming.TELEGRAM_DOWNLOAD_LIMIT);
    return Texts.get(lang, "help", "maxMb", maxBytes / (1024 * 1024), "maxChars", queueCfg.maxPromptChars(),
        "maxActive", cfg.maxActiveJobsPerUser(),
        "quota", cfg.dailyQuota() == 0 ? Texts.get(lang, "help_no_quota") : String.valueOf(cfg.dailyQuota()));
  }

  // ------------------------------------------------------------------ pictures and instructions

  private Future<Void> onImage(Incoming in, String lang, Image img) {
    Future<Boolean> first = img.mediaGroupId() == null ? Future.succeededFuture(true) : store.firstOfAlbum(img.mediaGroupId());
    return first.compose(isFirst -> {
      if (!isFirst) {
        return Future.succeededFuture(); // the rest of an album: one photo per edit
      }
      if (img.mediaGroupId() != null) {
        send(in.chatId(), Texts.get(lang, "album_first_only"));
      }
      if (img.caption() == null) {
        JsonObject pending = img.file().toJson().put("chat", in.chatId()).put("message", in.messageId());
        return store.setPendingPhoto(in.userId(), pending, cfg.pendingPhotoTtl())
            .compose(v -> send(in.chatId(), Texts.get(lang, "ask_instruction", "minutes", Math.max(1, (cfg.pendingPhotoTtl().toSeconds() + 59) / 60))));
      }
      return startEdit(in, lang, img.caption(), null, idem(in.chatId(), in.messageId()), "m:" + in.chatId() + ":" + in.messageId(),
          in.messageId(), img.file(), () -> download(img.file()), false);
    });
  }

  private Future<Void> onText(Incoming in, String lang, String text) {
    return store.pendingPhoto(in.userId()).compose(pending -> {
      if (pending == null || pending.getLong("chat", 0L) != in.chatId()) {
        return send(in.chatId(), Texts.get(lang, "need_photo"));
      }
      FileRef file = FileRef.fromJson(pending);
      return startEdit(in, lang, text, null, idem(in.chatId(), in.messageId()), "m:" + in.chatId() + ":" + in.messageId(),
          pending.getLong("message"), file, () -> download(file), true);
    });
  }

  private String idem(long chatId, long messageId) {
    return "tg:" + botId + ":" + chatId + ":" + messageId;
  }

  /**
   * Admits, fetches and queues one edit, then shows its place in line. The idempotency key makes a retried update
   * (a crash before the offset was saved, a replay after a Redis outage) find the job it already made.
   */
  private Future<Void> startEdit(Incoming in, String lang, String prompt, JsonObject params, String idemKey, String reservation,
                                 long replyTo, FileRef file, Supplier<Future<Buffer>> image, boolean fromPending) {
    String p = prompt.strip();
    int length = p.codePointCount(0, p.length());
    if (length > queueCfg.maxPromptChars()) {
      // Checked before the download: no point fetching a photo for an instruction that will be refused.
      return send(in.chatId(), Texts.get(lang, "rej_prompt_too_long", "length", length, "max", queueCfg.maxPromptChars()));
    }
    return queue.redis().send(io.vertx.redis.client.Command.GET, queue.keys().idempotency(idemKey)).compose(existing -> {
      if (existing != null) {
        LOG.info("job {}: update for chat {} message {} was handled before; not queued twice", existing, in.chatId(), replyTo);
        return Future.succeededFuture();
      }
      int quota = cfg.isAdmin(in.userId()) ? 0 : cfg.dailyQuota();
      return admit(in.userId(), reservation, quota).compose(adm -> {
        if (!"ok".equals(adm.status())) {
          return "quota".equals(adm.status())
              ? send(in.chatId(), Texts.get(lang, "limit_quota", "quota", cfg.dailyQuota()))
              : send(in.chatId(), Texts.get(lang, "limit_active", "count", adm.count(), "max", cfg.maxActiveJobsPerUser()));
        }
        return placeholder(in.chatId(), lang, replyTo).compose(statusId -> image.get()
            .transform(ar -> {
              if (ar.failed()) {
                return store.release(in.userId(), reservation, adm)
                    .compose(v -> tell(in.chatId(), statusId, downloadProblem(lang, ar.cause())));
              }
              JsonObject source = new JsonObject().put("kind", "telegram").put("bot", botId).put("chat", in.chatId())
                  .put("message", replyTo).put("user", in.userId()).put("lang", lang).put("file", file.toJson());
              if (statusId != null) {
                source.put("status_message", statusId);
              }
              NewJob job = new NewJob(p, ar.result(), params, null, source, idemKey);
              return queue.enqueue(job).transform(q -> q.succeeded()
                  ? queued(in, lang, reservation, q.result(), statusId, fromPending)
                  : refused(in, lang, reservation, adm, statusId, q.cause()));
            }));
      });
    });
  }

  /** True for the source of a job this bot queued: Telegram, and this bot's id (as startEdit writes it). */
  static boolean fromThisBot(JsonObject source, String botId) {
    return source != null && "telegram".equals(source.getString("kind")) && botId.equals(source.getString("bot"));
  }

  private Future<BotStore.Admission> admit(long userId, String reservation, int quota) {
    return store.admit(userId, reservation, cfg.maxActiveJobsPerUser(), quota).compose(adm -> {
      if (!"active".equals(adm.status())) {
        return Future.succeededFuture(adm);
      }
      // The set may still name jobs that ended but whose end was not delivered yet (Telegram down, or the entry
      // trimmed from the outcome stream): they no longer count.
      return store.activeJobs(userId).compose(ids -> queue.jobs(ids).compose(jobs -> {
        Set<String> alive = jobs.stream().filter(j -> !j.state().terminal()).map(Job::id).collect(Collectors.toSet());
        List<String> stale = ids.stream().filter(id -> !alive.contains(id)).toList();
        if (stale.isEmpty()) {
          return Future.succeededFuture(adm);
        }
        // still tracked for delivery (the reconcile pass delivers it if its outcome entry is gone)
        return Future.all(stale.stream().map(id -> store.releaseActive(userId, id)).toList())
            .compose(v -> store.admit(userId, reservation, cfg.maxActiveJobsPerUser(), quota));
      }));
    });
  }

  /** "Got it, queuing…", sent before the job exists so the job can name its status message. Null when it failed. */
  private Future<Long> placeholder(long chatId, String lang, long replyTo) {
    return outbox.sendMessage(chatId, Texts.get(lang, "received"), null, replyTo, PLACEHOLDER_PATIENCE)
        .map(m -> m.getLong("message_id"))
        .otherwise(err -> {
          LOG.info("chat {}: status message not sent ({}); queuing without one", chatId, err.getMessage());
          return null;
        });
  }

  private Future<Void> queued(Incoming in, String lang, String reservation, Enqueued e, Long statusId, boolean fromPending) {
    if (!e.duplicate()) {
      LOG.info("job {}: queued for chat {} (user {}) at position {}", e.id(), in.chatId(), in.userId(), e.position());
    }
    Future<Void> stored = store.commit(in.userId(), reservation, e.id())
        .compose(v -> fromPending ? store.clearPendingPhoto(in.userId()) : Future.succeededFuture());
    return stored.onSuccess(v -> showQueued(in.chatId(), lang, e, statusId));
  }

  /** Asks the status verticle to show the job's state; on an instance without one, edits the message here. */
  private void showQueued(long chatId, String lang, Enqueued e, Long statusId) {
    if (statusId == null) {
      return;
    }
    vertx.eventBus().request(BotAddresses.STATUS_REFRESH, new JsonObject().put("id", e.id()),
        new DeliveryOptions().setLocalOnly(true).setSendTimeout(10_000)).onFailure(err -> workers.list()
        .map(JsonArray::isEmpty).otherwise(false)
        .onSuccess(noWorkers -> outbox.editText(chatId, statusId, StatusText.status(lang,
            new StatusText.View("queued", e.position() < 0 ? null : e.position(), null, false, 0, false, noWorkers)),
            Outbox.buttons(Texts.get(lang, "btn_cancel"), "x:" + e.id()))));
  }

  private Future<Void> refused(Incoming in, String lang, String reservation, BotStore.Admission admission, Long statusId,
                               Throwable err) {
    if (!(err instanceof JobRejectedException r)) {
      return Future.failedFuture(err); // Redis trouble: the verticle keeps the update and tries again later
    }
    LOG.info("chat {}: request refused ({}): {}", in.chatId(), r.code(), r.getMessage());
    return store.release(in.userId(), reservation, admission).compose(v -> tell(in.chatId(), statusId, rejection(lang, r)));
  }

  /** The person-facing text of a refusal, in their language, from the queue's code and its English message. */
  static String rejection(String lang, JobRejectedException r) {
    String m = r.getMessage() == null ? "" : r.getMessage();
    switch (r.code()) {
      case "prompt_missing":
      case "not_an_image":
      case "queue_full":
        return Texts.get(lang, "rej_" + r.code());
      case "prompt_too_long": {
        List<String> n = numbers(m);
        return n.size() >= 2 ? Texts.get(lang, "rej_prompt_too_long", "length", n.get(0), "max", n.get(1))
            : Texts.get(lang, "rej_default");
      }
      case "image_too_large": {
        List<String> n = numbers(m);
        return n.size() >= 2 ? Texts.get(lang, "rej_image_too_large", "size", n.get(0) + " MB", "max", n.get(1) + " MB")
            : Texts.get(lang, "rej_default");
      }
      case "image_too_many_pixels": {
        List<String> n = numbers(m);
        return n.size() >= 5 ? Texts.get(lang, "rej_image_too_many_pixels", "width", n.get(0), "height", n.get(1), "maxMp", n.get(3))
            : Texts.get(lang, "rej_default");
      }
      default:
        return Texts.get(lang, "rej_default");
    }
  }

  private static List<String> numbers(String s) {
    List<String> out = new ArrayList<>();
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\d+(\\.\\d+)?").matcher(s);
    while (m.find()) {
      out.add(m.group());
    }
    return out;
  }

  private String downloadProblem(String lang, Throwable err) {
    if (err instanceof TelegramApiException t && t.code() == 400 && t.description().toLowerCase(Locale.ROOT).contains("too big")) {
      long max = Math.min(queueCfg.maxImageBytes(), Incoming.TELEGRAM_DOWNLOAD_LIMIT);
      return Texts.get(lang, "file_too_big", "size", "> " + mb(Incoming.TELEGRAM_DOWNLOAD_LIMIT), "max", mb(max));
    }
    LOG.warn("could not fetch a picture from Telegram: {}", err.getMessage());
    return Texts.get(lang, "download_failed");
  }

  /** Fetches a picture the person sent: getFile, then the file itself. */
  Future<Buffer> download(FileRef file) {
    return telegram.call("getFile", new JsonObject().put("file_id", file.fileId()))
        .compose(r -> {
          String path = r instanceof JsonObject j ? j.getString("file_path") : null;
          return path == null ? Future.failedFuture(new TelegramApiException(400, "getFile gave no file_path", -1, null))
              : telegram.download(path);
        });
  }

  // ------------------------------------------------------------------ commands

  private Future<Void> onCommand(Incoming in, String lang, Command c) {
    switch (c.name()) {
      case "status":
        return status(in, lang);
      case "cancel":
        return cancelAll(in, lang);
      case "stats":
        return cfg.isAdmin(in.userId()) ? stats(in, lang) : say(in, lang, "admin_only");
      case "ban":
      case "unban":
        return cfg.isAdmin(in.userId()) ? ban(in, lang, c) : say(in, lang, "admin_only");
      default:
        return say(in, lang, "unknown_command");
    }
  }

  private Future<Void> status(Incoming in, String lang) {
    return store.lastJob(in.userId()).compose(id -> id == null ? Future.succeededFuture(null) : queue.get(id)).compose(job -> {
      if (job == null) {
        return say(in, lang, "status_none");
      }
      Future<Integer> pos = "queued".equals(job.state().wire()) ? queue.position(job.id()) : Future.succeededFuture(null);
      return pos.compose(p -> send(in.chatId(), Texts.get(lang, "status_job", "prompt", shorten(job.prompt(), 100),
          "state", StatusText.stateForStatusCommand(lang, view(job, p, false)))));
    });
  }

  static StatusText.View view(Job job, Integer position, boolean noWorkers) {
    return new StatusText.View(job.state().wire(), position, job.progress(), job.dueAt() != null, job.attempts(),
        job.cancelRequested(), noWorkers);
  }

  private Future<Void> cancelAll(Incoming in, String lang) {
    return store.activeJobs(in.userId()).compose(ids -> {
      if (ids.isEmpty()) {
        return say(in, lang, "cancel_nothing");
      }
      List<Future<String>> results = ids.stream().map(queue::cancel).toList();
      return Future.join(results).transform(x -> {
        boolean any = results.stream().anyMatch(f -> f.succeeded() && "cancelled".equals(f.result()));
        boolean requested = results.stream().anyMatch(f -> f.succeeded() && "requested".equals(f.result()));
        ids.forEach(id -> refresh(id));
        if (requested) {
          return say(in, lang, "cancel_requested");
        }
        return say(in, lang, any ? "cancel_done" : "cancel_nothing");
      });
    });
  }

  private Future<Void> stats(Incoming in, String lang) {
    return queue.snapshot(workers).compose((Snapshot s) -> {
      StringBuilder lines = new StringBuilder();
      for (Object o : s.workers()) {
        JsonObject w = (JsonObject) o;
        lines.append("\n• ").append(w.getString("id"));
        Object gpus = w.getValue("gpus");
        if (gpus instanceof JsonArray a) {
          lines.append(": ").append(a.size()).append(" GPU");
          for (Object g : a) {
            if (g instanceof JsonObject gj) {
              lines.append(" [").append(gj.getString("name", gj.getString("id", "?"))).append(' ')
                  .append(gj.getString("state", "")).append(']');
            }
          }
        }
      }
      return send(in.chatId(), Texts.get(lang, "stats", "waiting", s.queued(), "retrying", s.delayed(),
          "running", s.running().size(), "dead", s.dead(), "succeeded", s.counters().getLong("succeeded", 0L),
          "failed", s.counters().getLong("failed", 0L), "workers", s.workers().size(),
          "workerLines", lines.toString()));
    });
  }

  private Future<Void> ban(Incoming in, String lang, Command c) {
    long target;
    try {
      target = Long.parseLong(c.args().strip());
    } catch (NumberFormatException e) {
      return say(in, lang, "ban_usage");
    }
    boolean ban = "ban".equals(c.name());
    return (ban ? store.ban(target) : store.unban(target))
        .compose(v -> send(in.chatId(), Texts.get(lang, ban ? "ban_done" : "unban_done", "id", target)));
  }

  // ------------------------------------------------------------------ buttons

  private Future<Void> onCallback(Incoming in, String lang, Callback cb) {
    String data = cb.data();
    int colon = data.indexOf(':');
    if (colon != 1) {
      return answer(cb, null);
    }
    String action = data.substring(0, 1);
    String jobId = data.substring(2);
    return queue.get(jobId).compose(job -> {
      if (job == null) {
        return answer(cb, Texts.get(lang, "cb_gone"));
      }
      JsonObject src = job.source() == null ? new JsonObject() : job.source();
      if (src.getLong("user", -1L) != in.userId() && !cfg.isAdmin(in.userId())) {
        return answer(cb, Texts.get(lang, "cb_not_yours"));
      }
      switch (action) {
        case "x":
          return queue.cancel(jobId).compose(r -> {
            refresh(jobId);
            String key = "cancelled".equals(r) ? "cancel_done" : "requested".equals(r) ? "cancel_requested" : "cancel_finished";
            return answer(cb, Texts.get(lang, key));
          });
        case "a":
          return answer(cb, null).compose(v -> again(in, lang, cb, job, src));
        case "f":
          return fullQuality(in, lang, cb, job, src);
        default:
          return answer(cb, null);
      }
    });
  }

  /** "Again": the same picture and instruction, a new seed; a new job with its own status message. */
  private Future<Void> again(Incoming in, String lang, Callback cb, Job job, JsonObject src) {
    long replyTo = src.getLong("message", in.messageId());
    FileRef file = src.getJsonObject("file") == null ? null : FileRef.fromJson(src.getJsonObject("file"));
    Supplier<Future<Buffer>> image = () -> queue.image(job.inputRef()).compose(bytes -> {
      if (bytes != null) {
        return Future.succeededFuture(bytes);
      }
      // The stored input expired with the job: Telegram still has the photo.
      return file == null ? Future.failedFuture(new TelegramApiException(400, "input expired", -1, null)) : download(file);
    });
    JsonObject params = job.paramsOrEmpty().copy().put("seed", RANDOM.nextLong() & ((1L << 48) - 1));
    // Keyed by the press itself: pressing twice makes two requests, each admitted (or refused) on its own.
    return startEdit(in, lang, job.prompt(), params, "tg:" + botId + ":cb:" + cb.callbackId(), "m:cb:" + cb.callbackId(),
        replyTo, file == null ? new FileRef("", "photo", -1, null, null, 0, 0) : file, image, false);
  }

  /** The result as a file, at full quality. */
  private Future<Void> fullQuality(Incoming in, String lang, Callback cb, Job job, JsonObject src) {
    if (job.resultRef() == null) {
      return answer(cb, Texts.get(lang, "cb_gone"));
    }
    return queue.image(job.resultRef()).compose(bytes -> {
      if (bytes == null) {
        return answer(cb, Texts.get(lang, "result_expired", "hours", queueCfg.retention().toHours()));
      }
      String ext = job.resultRef().contains(".") ? job.resultRef().substring(job.resultRef().lastIndexOf('.') + 1) : "png";
      answer(cb, Texts.get(lang, "cb_sending_file"));
      outbox.sendDocument(in.chatId(), bytes, "edit-" + job.id() + "." + ext, "image/" + ("jpg".equals(ext) ? "jpeg" : ext),
          null, null, src.getLong("message")).onFailure(err -> LOG.warn("job {}: full-quality file not sent: {}", job.id(), err.getMessage()));
      return Future.succeededFuture();
    });
  }

  private Future<Void> answer(Callback cb, String text) {
    return outbox.answerCallback(cb.callbackId(), text, false).<Void>mapEmpty().otherwiseEmpty();
  }

  /** Answers a button press whose handling failed (Redis down), so the person's spinner stops with a reason. */
  Future<Void> answerUnavailable(Incoming in) {
    if (in.intent() instanceof Callback cb) {
      return outbox.answerCallback(cb.callbackId(), Texts.get(lang(in), "unavailable_try_later"), true).<Void>mapEmpty().otherwiseEmpty();
    }
    return send(in.chatId(), Texts.get(lang(in), "unavailable_try_later"));
  }

  private void refresh(String jobId) {
    vertx.eventBus().send(BotAddresses.STATUS_REFRESH, new JsonObject().put("id", jobId), new DeliveryOptions().setLocalOnly(true));
  }

  // ------------------------------------------------------------------ answers

  private Future<Void> say(Incoming in, String lang, String key) {
    return send(in.chatId(), Texts.get(lang, key));
  }

  /** Tells someone the bot does not serve them: in the chat, or on the button they pressed (which stops its spinner). */
  private Future<Void> refuse(Incoming in, String lang, String key) {
    return in.intent() instanceof Callback cb ? answer(cb, Texts.get(lang, key)) : say(in, lang, key);
  }

  /** Sends without making the update wait for Telegram: the update is handled once its state is stored. */
  Future<Void> send(long chatId, String text) {
    outbox.sendMessage(chatId, text, null, null)
        .onFailure(err -> LOG.info("chat {}: answer not sent: {}", chatId, err.getMessage()));
    return Future.succeededFuture();
  }

  /** Replaces the status message with {@code text}, or sends it when there is none. */
  private Future<Void> tell(long chatId, Long statusId, String text) {
    if (statusId == null) {
      return send(chatId, text);
    }
    outbox.editText(chatId, statusId, text, null).onFailure(err -> send(chatId, text));
    return Future.succeededFuture();
  }

  static String mb(long bytes) {
    return String.format(Locale.ROOT, "%.1f MB", bytes / (1024.0 * 1024.0));
  }

  static String shorten(String s, int max) {
    if (s == null) {
      return "";
    }
    return s.codePointCount(0, s.length()) <= max ? s : s.substring(0, s.offsetByCodePoints(0, max - 1)) + "…";
  }
}
