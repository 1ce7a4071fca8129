package io.qwenedit.bot;

import io.qwenedit.config.Config;
import io.qwenedit.queue.JobQueue;
import io.qwenedit.queue.Keys;
import io.qwenedit.queue.Registry;
import io.qwenedit.redis.RedisCommands;
import io.qwenedit.redis.RedisSubscriber;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps each person's status message true while their job waits and runs: place in line, "editing", a progress bar,
 * "stopping". Listens to the queue's events (a hint: the job record is read each time and is the truth), edits at
 * most once per {@code BOT_STATUS_INTERVAL} per message, never sends the same text twice, and refreshes the places in
 * line when the queue moves. Final texts are written by {@link ResultDeliveryVerticle}. Runs on the active instance.
 */
public final class JobStatusVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(JobStatusVerticle.class);
  private static final long POSITIONS_EVERY_MS = 15_000;
  private static final long POSITIONS_DEBOUNCE_MS = 2_000;
  private static final long WORKERS_CACHE_MS = 5_000;
  private static final int NOT_OURS_MAX = 5_000;
  private static final long TRACK_IDLE_MS = 600_000;
  private static final Set<String> TERMINAL = Set.of("succeeded", "failed", "dead", "cancelled");

  /** What this instance last showed for one job (in flight only: dropped when the job ends). */
  private static final class Track {
    String lastText;
    long lastEditAt;
    long lastTouched;
    long timer = -1;
    boolean running;
    boolean again;
  }

  private final Config config;
  private String botId;
  private RedisCommands redis;
  private Keys keys;
  private Registry workers;
  private BotStore store;
  private Outbox outbox;
  private RedisSubscriber events;
  private MessageConsumer<JsonObject> refreshes;
  private final Map<String, Track> tracks = new HashMap<>();
  /** Ids of jobs that are not this bot's (API jobs...), so their progress events cost nothing. Bounded. */
  private final Map<String, Boolean> notOurs = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
      return size() > NOT_OURS_MAX;
    }
  };
  private long periodic = -1;
  private long positionsTimer = -1;
  private long workersCheckedAt;
  private boolean noWorkers;

  public JobStatusVerticle(Config config) {
    this.config = config;
  }

  @Override
  public Future<?> start() {
    redis = new RedisCommands(vertx, config.redis(), "bot-status");
    JobQueue queue = new JobQueue(redis, config.queue());
    keys = queue.keys();
    workers = Registry.workers(redis, keys);
    store = new BotStore(redis, config);
    botId = config.bot().botId();
    outbox = new Outbox(vertx);
    refreshes = vertx.eventBus().<JsonObject>localConsumer(BotAddresses.STATUS_REFRESH, this::onRefreshRequest);
    events = new RedisSubscriber(vertx, config.redis(), List.of(keys.eventsChannel()), this::onEvent);
    // Events published while the subscription was down are lost: read every tracked job again.
    events.onReconnect(this::refreshTracked);
    events.startInBackground();
    periodic = vertx.setPeriodic(POSITIONS_EVERY_MS, t -> refreshTracked());
    vertx.setTimer(1, t -> refreshTracked());
    return refreshes.completion();
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(periodic);
    vertx.cancelTimer(positionsTimer);
    tracks.values().forEach(t -> vertx.cancelTimer(t.timer));
    tracks.clear();
    return Future.join(refreshes.unregister(), events.close()).eventually(redis::close);
  }

  private void onRefreshRequest(Message<JsonObject> msg) {
    String id = msg.body().getString("id");
    if (id != null) {
      notOurs.remove(id);
      refresh(id);
    }
    msg.reply(new JsonObject().put("ok", true));
  }

  private void onEvent(String channel, String message) {
    JsonObject e;
    try {
      e = new JsonObject(message);
    } catch (RuntimeException ex) {
      return;
    }
    String id = e.getString("id");
    String type = e.getString("type", "");
    if (id == null) {
      return;
    }
    if (TERMINAL.contains(type)) {
      Track t = tracks.remove(id);
      if (t != null) {
        vertx.cancelTimer(t.timer);
      }
    } else if (!notOurs.containsKey(id)) {
      refresh(id);
    }
    if ("running".equals(type) || TERMINAL.contains(type)) {
      positionsMoved();
    }
  }

  /** A job left the line: everyone behind it moved up. Debounced: one refresh for a burst of starts. */
  private void positionsMoved() {
    if (positionsTimer < 0) {
      positionsTimer = vertx.setTimer(POSITIONS_DEBOUNCE_MS, t -> {
        positionsTimer = -1;
        refreshTracked();
      });
    }
  }

  private void refreshTracked() {
    long now = System.currentTimeMillis();
    for (Iterator<Map.Entry<String, Track>> it = tracks.entrySet().iterator(); it.hasNext(); ) {
      Track t = it.next().getValue();
      if (!t.running && t.timer < 0 && now - t.lastTouched > TRACK_IDLE_MS) {
        it.remove();
      }
    }
    store.trackedJobs(1000).onSuccess(ids -> ids.forEach(this::refresh))
        .onFailure(err -> LOG.debug("status: tracked jobs not readable: {}", err.getMessage()));
  }

  /** Brings one job's status message up to date, at most once per interval (a trailing edit catches the last state). */
  private void refresh(String id) {
    Track t = tracks.computeIfAbsent(id, k -> new Track());
    t.lastTouched = System.currentTimeMillis();
    if (t.running) {
      t.again = true;
      return;
    }
    long wait = t.lastEditAt + config.bot().statusInterval().toMillis() - System.currentTimeMillis();
    if (wait > 0) {
      if (t.timer < 0) {
        t.timer = vertx.setTimer(wait, x -> {
          t.timer = -1;
          refresh(id);
        });
      }
      return;
    }
    t.running = true;
    update(id, t).onComplete(ar -> {
      t.running = false;
      if (ar.failed()) {
        LOG.debug("job {}: status not updated: {}", id, ar.cause().getMessage());
      }
      if (t.again && tracks.get(id) == t) {
        t.again = false;
        refresh(id);
      }
    });
  }

  private Future<Void> update(String id, Track t) {
    return redis.batch(List.of(
        Request.cmd(Command.HMGET).arg(keys.job(id)).arg("state").arg("source").arg("progress").arg("due_at")
            .arg("attempts").arg("cancel_requested"),
        Request.cmd(Command.ZRANK).arg(keys.waiting()).arg(id))).compose(rs -> {
          Response f = rs.get(0);
          String state = str(f.get(0));
          JsonObject source = json(str(f.get(1)));
          if (state == null || !Conversation.fromThisBot(source, botId)) {
            notOurs.put(id, true);
            tracks.remove(id);
            return Future.succeededFuture();
          }
          if (TERMINAL.contains(state)) {
            tracks.remove(id);
            return Future.succeededFuture();
          }
          Long statusId = source.getLong("status_message");
          if (statusId == null) {
            return Future.succeededFuture();
          }
          Integer position = rs.get(1) == null ? null : rs.get(1).toInteger() + 1;
          long chat = source.getLong("chat");
          return store.isBlocked(chat).compose(blocked -> {
            if (blocked) {
              tracks.remove(id); // the person blocked the bot: nothing more is sent to them
              return Future.succeededFuture();
            }
            return noWorkers("queued".equals(state)).compose(none -> {
              String lang = source.getString("lang", config.bot().defaultLanguage());
              StatusText.View v = new StatusText.View(state, position, json(str(f.get(2))), f.get(3) != null,
                  f.get(4) == null ? 0 : f.get(4).toInteger(), "1".equals(str(f.get(5))), none);
              return show(id, t, chat, statusId, lang, v);
            });
          });
        });
  }

  private Future<Void> show(String id, Track t, long chat, long statusId, String lang, StatusText.View v) {
    String text = StatusText.status(lang, v);
    if (text == null || text.equals(t.lastText)) {
      return Future.succeededFuture();
    }
    JsonObject buttons = v.cancelRequested() ? null : Outbox.buttons(Texts.get(lang, "btn_cancel"), "x:" + id);
    t.lastText = text;
    t.lastEditAt = System.currentTimeMillis();
    return outbox.editText(chat, statusId, text, buttons).<Void>mapEmpty().recover(err -> {
      if (err instanceof TelegramApiException e && (e.messageGone() || e.forbidden())) {
        tracks.remove(id); // the person deleted it, or blocked the bot: nothing more to show
      }
      return Future.failedFuture(err);
    });
  }

  private Future<Boolean> noWorkers(boolean needed) {
    long now = System.currentTimeMillis();
    if (!needed || now - workersCheckedAt < WORKERS_CACHE_MS) {
      return Future.succeededFuture(needed && noWorkers);
    }
    return workers.list().map(JsonArray::isEmpty).map(none -> {
      workersCheckedAt = now;
      noWorkers = none;
      return none;
    }).otherwise(noWorkers);
  }

  private static String str(Response r) {
    return r == null ? null : r.toString();
  }

  private static JsonObject json(String s) {
    if (s == null || s.isEmpty()) {
      return null;
    }
    try {
      return new JsonObject(s);
    } catch (RuntimeException e) {
      return null;
    }
  }
}
