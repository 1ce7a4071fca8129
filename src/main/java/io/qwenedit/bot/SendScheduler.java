package io.qwenedit.bot;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * Decides which outgoing Bot API call may go next, on a caller-supplied clock: one call in flight per chat (so a
 * chat's messages arrive in order), a token bucket per chat (private chats {@code chatInterval}, groups three times
 * that, bursts of {@link #BURST}), a global bucket ({@code globalRate} per second), and per-chat pauses (429
 * {@code retry_after}, back-off after errors). Edits of one message that are still waiting are merged (the newest
 * text wins). Holds state only for chats with calls waiting or recently sent: idle chats are forgotten.
 *
 * <p>Not thread-safe: the sender verticle uses it from its own event loop.
 */
final class SendScheduler<T> {
  static final int BURST = 3;
  /** Calls with no chat (answerCallbackQuery, getFile...) share this lane, limited only by the global bucket. */
  static final long NO_CHAT = Long.MIN_VALUE;

  private static final class Entry<T> {
    T call;
    final String coalesceKey;

    Entry(T call, String coalesceKey) {
      this.call = call;
      this.coalesceKey = coalesceKey;
    }
  }

  private static final class ChatLane<T> {
    final long chatId;
    final ArrayDeque<Entry<T>> queue = new ArrayDeque<>();
    final TokenBucket bucket;
    boolean busy;
    boolean scheduled;
    long pausedUntil;
    long readyAt;

    ChatLane(long chatId, TokenBucket bucket) {
      this.chatId = chatId;
      this.bucket = bucket;
    }
  }

  /** What to do now: send {@code call} to {@code chatId}, or wait {@code waitMs} (-1: nothing is waiting at all). */
  record Next<T>(T call, long chatId, long waitMs) {}

  private final long chatIntervalMs;
  private final long groupIntervalMs;
  private final TokenBucket global;
  private final Map<Long, ChatLane<T>> lanes = new HashMap<>();
  private final PriorityQueue<ChatLane<T>> ready = new PriorityQueue<>((a, b) -> Long.compare(a.readyAt, b.readyAt));
  private int queued;
  private long lastSweep;

  SendScheduler(long chatIntervalMs, int globalRatePerSecond, long nowMs) {
    this.chatIntervalMs = chatIntervalMs;
    this.groupIntervalMs = chatIntervalMs * 3;
    this.global = new TokenBucket(1000.0 / globalRatePerSecond, Math.max(1, globalRatePerSecond), nowMs);
    this.lastSweep = nowMs;
  }

  /**
   * Queues a call. When {@code coalesceKey} names a call still waiting in that chat (not yet sent), that call is
   * returned and the new one is not queued: the caller merges them.
   */
  T add(long chatId, T call, String coalesceKey, long nowMs) {
    ChatLane<T> lane = lane(chatId, nowMs);
    if (coalesceKey != null) {
      for (Entry<T> e : lane.queue) {
        if (coalesceKey.equals(e.coalesceKey)) {
          return e.call;
        }
      }
    }
    lane.queue.addLast(new Entry<>(call, coalesceKey));
    queued++;
    schedule(lane, nowMs);
    return null;
  }

  /** Puts a call back at the head of its chat (retry after a pause), keeping the chat's order. */
  void addFirst(long chatId, T call, long nowMs) {
    ChatLane<T> lane = lane(chatId, nowMs);
    lane.queue.addFirst(new Entry<>(call, null));
    queued++;
    schedule(lane, nowMs);
  }

  /** No call to this chat before {@code untilMs}. */
  void pause(long chatId, long untilMs, long nowMs) {
    ChatLane<T> lane = lane(chatId, nowMs);
    lane.pausedUntil = Math.max(lane.pausedUntil, untilMs);
    if (lane.scheduled) {
      ready.remove(lane);
      lane.scheduled = false;
      schedule(lane, nowMs);
    }
  }

  /** The call sent to this chat has finished (any outcome): the chat's next call may be scheduled. */
  void done(long chatId, long nowMs) {
    ChatLane<T> lane = lanes.get(chatId);
    if (lane == null) {
      return;
    }
    lane.busy = false;
    if (forgettable(lane, nowMs)) {
      lanes.remove(chatId);
      return;
    }
    schedule(lane, nowMs);
  }

  /** Removes and returns every call waiting for this chat (the person blocked the bot). */
  List<T> drain(long chatId) {
    ChatLane<T> lane = lanes.get(chatId);
    List<T> out = new ArrayList<>();
    if (lane == null) {
      return out;
    }
    lane.queue.forEach(e -> out.add(e.call));
    queued -= lane.queue.size();
    lane.queue.clear();
    if (lane.scheduled) {
      ready.remove(lane);
      lane.scheduled = false;
    }
    return out;
  }

  /** Removes and returns every waiting call of every chat (shutting down). */
  List<T> drainAll() {
    List<T> out = new ArrayList<>();
    for (Long chat : List.copyOf(lanes.keySet())) {
      out.addAll(drain(chat));
    }
    return out;
  }

  /** The next call that may go now, or how long to wait. */
  Next<T> next(long nowMs) {
    sweep(nowMs);
    ChatLane<T> head = ready.peek();
    if (head == null) {
      return new Next<>(null, 0, -1);
    }
    long at = Math.max(head.readyAt, global.availableAt(nowMs));
    if (at > nowMs) {
      return new Next<>(null, 0, at - nowMs);
    }
    ready.poll();
    head.scheduled = false;
    if (head.readyAt > nowMs) { // defensive: the lane's own time moved
      schedule(head, nowMs);
      return new Next<>(null, 0, Math.max(1, head.readyAt - nowMs));
    }
    Entry<T> e = head.queue.pollFirst();
    queued--;
    head.busy = true;
    head.bucket.take(nowMs);
    global.take(nowMs);
    return new Next<>(e.call, head.chatId, 0);
  }

  int queued() {
    return queued;
  }

  /** Chats the scheduler holds state for (for the memory check: it must not grow with every chat ever seen). */
  int lanes() {
    return lanes.size();
  }

  private ChatLane<T> lane(long chatId, long nowMs) {
    return lanes.computeIfAbsent(chatId, id -> {
      long interval = id == NO_CHAT ? 0 : id < 0 ? groupIntervalMs : chatIntervalMs;
      return new ChatLane<>(id, new TokenBucket(interval, BURST, nowMs));
    });
  }

  private void schedule(ChatLane<T> lane, long nowMs) {
    if (lane.busy || lane.scheduled || lane.queue.isEmpty()) {
      return;
    }
    lane.readyAt = Math.max(lane.pausedUntil, lane.bucket.availableAt(nowMs));
    lane.scheduled = true;
    ready.add(lane);
  }

  /** At most once a second: forgets every chat there is nothing to remember about. */
  private void sweep(long nowMs) {
    if (nowMs - lastSweep < 1_000) {
      return;
    }
    lastSweep = nowMs;
    lanes.values().removeIf(lane -> forgettable(lane, nowMs));
  }

  /** Nothing to remember about this chat: nothing waiting, nothing in flight, no pause, and a full bucket. */
  private static boolean forgettable(ChatLane<?> lane, long nowMs) {
    return !lane.busy && lane.queue.isEmpty() && lane.pausedUntil <= nowMs && lane.bucket.full(nowMs);
  }
}
