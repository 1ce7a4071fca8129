package io.qwenedit.telegram;

import io.qwenedit.queue.ImageInfo;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.awt.Image;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;

/**
 * A Telegram Bot API server of our own for tests: a real HTTP server on a loopback port that speaks the Bot API the
 * way the fact sheet (reference/telegram-bot-api.md) describes it. Parameters are accepted as a query string,
 * urlencoded or multipart form, or JSON; uploads come as the multipart parts {@code photo} / {@code document}; every
 * answer is {@code {"ok":..,"result"|"error_code","description","parameters"}} with the HTTP status equal to the
 * error code. It keeps every chat and message so tests can check what a person would see, lets tests play people
 * (photos with captions, files, text, stickers, button presses, blocking the bot), and can be told to fail: 429
 * with retry_after, 5xx, 403, hang, or go away entirely (unreachable) and come back on the same port.
 */
public final class TelegramStub implements AutoCloseable {
  public static final String TOKEN = "7000000001:AAStubTokenForTests_abcdefghijklmnop";
  public static final long BOT_ID = 7000000001L;
  private static final Pattern API_PATH = Pattern.compile("^/bot([^/]+)/([A-Za-z]+)$");
  private static final Pattern FILE_PATH = Pattern.compile("^/file/bot([^/]+)/(.+)$");
  private static final long MAX_DOWNLOAD = 20L << 20;
  private static final long MAX_PHOTO_UPLOAD = 10L << 20;
  private static final long MAX_DOCUMENT_UPLOAD = 50L << 20;

  /** A request the stub received. {@code atMs} is on the stub's monotonic clock ({@link #nowMs()}). */
  public record Call(String method, Long chatId, long atMs, int status, JsonObject params) {}

  /** A file the stub holds (sent by a person or uploaded by the bot). {@code bytes} may be absent for huge fakes. */
  record StoredFile(String fileId, String uniqueId, String path, long size, Buffer bytes) {}

  /** A scripted answer for the next matching calls. */
  private static final class Rule {
    final String method;
    final Long chat;
    final AtomicInteger remaining;
    final int code;
    final String description;
    final int retryAfter;
    final boolean hang;

    Rule(String method, Long chat, int times, int code, String description, int retryAfter, boolean hang) {
      this.method = method == null ? null : method.toLowerCase(Locale.ROOT);
      this.chat = chat;
      this.remaining = new AtomicInteger(times);
      this.code = code;
      this.description = description;
      this.retryAfter = retryAfter;
      this.hang = hang;
    }
  }

  private static final class Poll {
    final HttpServerResponse response;
    final long offsetGiven;
    final int limit;
    long timer = -1;

    Poll(HttpServerResponse response, long offsetGiven, int limit) {
      this.response = response;
      this.offsetGiven = offsetGiven;
      this.limit = limit;
    }
  }

  private final Vertx vertx;
  private final int port;
  private final long startedNanos = System.nanoTime();
  private HttpServer server;
  private final WebClient webhookClient;

  // State; guarded by "this".
  private final Deque<JsonObject> updates = new ArrayDeque<>();
  private final Map<Long, JsonObject> pushed = new HashMap<>();
  private long nextUpdateId = 100_001;
  private long nextMessageId = 1;
  private long nextFileNo = 1;
  private final Map<Long, StubChat> chats = new LinkedHashMap<>();
  private final Map<Long, JsonObject> users = new HashMap<>();
  private final Map<String, StoredFile> files = new HashMap<>();
  private final Map<String, StoredFile> filesByPath = new HashMap<>();
  private final Set<Long> blockedBy = new HashSet<>();
  private final List<Rule> rules = new ArrayList<>();
  private final Set<HttpServerResponse> hanging = new HashSet<>();
  private Set<String> allowedUpdates = null;
  private Poll waiting;
  private String webhookUrl = "";
  private String webhookSecret;
  private boolean recording = true;

  private final List<Call> calls = new CopyOnWriteArrayList<>();
  private final Map<String, AtomicLong> callsPerMethod = new java.util.concurrent.ConcurrentHashMap<>();
  private final List<JsonObject> callbackAnswers = new CopyOnWriteArrayList<>();
  private final List<JsonObject> commandsSet = new CopyOnWriteArrayList<>();
  private final AtomicInteger conflicts = new AtomicInteger();
  private final AtomicInteger concurrentPollsSeen = new AtomicInteger();
  private final AtomicLong callCount = new AtomicLong();
  private final List<Integer> webhookStatuses = new CopyOnWriteArrayList<>();

  private TelegramStub(int port) {
    this.vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1));
    this.port = port;
    this.webhookClient = WebClient.create(vertx);
  }

  /** Starts a stub on a free loopback port. */
  public static TelegramStub start() {
    TelegramStub s = new TelegramStub(io.qwenedit.redis.LocalRedisServer.freePort());
    s.up();
    return s;
  }

  public int port() {
    return port;
  }

  /** The value for TELEGRAM_API_URL. */
  public URI apiUrl() {
    return URI.create("http://127.0.0.1:" + port);
  }

  /** Milliseconds since the stub started (monotonic), the clock of {@link Call#atMs()}. */
  public long nowMs() {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedNanos);
  }

  // ------------------------------------------------------------------ server lifecycle

  /** Listens (again) on the stub's port. */
  public synchronized void up() {
    if (server != null) {
      return;
    }
    HttpServerOptions options = new HttpServerOptions().setHost("127.0.0.1").setPort(port)
        .setMaxFormAttributeSize(1 << 20).setReuseAddress(true);
    HttpServer s = vertx.createHttpServer(options).requestHandler(this::onRequest);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      try {
        s.listen().await(5, TimeUnit.SECONDS);
        server = s;
        return;
      } catch (Exception e) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("stub cannot listen on " + port, e);
        }
        sleep(100);
      }
    }
  }

  /** Stops listening and drops every open connection: Telegram is unreachable until {@link #up()}. */
  public void down() {
    HttpServer s;
    synchronized (this) {
      s = server;
      server = null;
      waiting = null;
      hanging.clear();
    }
    if (s != null) {
      try {
        s.close().await(5, TimeUnit.SECONDS);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }
  }

  @Override
  public void close() {
    down();
    try {
      vertx.close().await(5, TimeUnit.SECONDS);
    } catch (Exception ignored) {
      // closing anyway
    }
  }

  /** Stops keeping messages (for the memory benchmark, so the stub's own heap use does not count). */
  public synchronized void recording(boolean on) {
    recording = on;
  }

  // ------------------------------------------------------------------ failure scripting

  /** The next {@code times} calls of {@code method} (null: any) to {@code chat} (null: any) answer this error. */
  public synchronized void failNext(String method, Long chat, int times, int code, String description) {
    rules.add(new Rule(method, chat, times, code, description, -1, false));
  }

  /** The next {@code times} calls of {@code method} answer 429 with {@code retry_after} seconds. */
  public synchronized void floodNext(String method, Long chat, int times, int retryAfter) {
    rules.add(new Rule(method, chat, times, 429, "Too Many Requests: retry after " + retryAfter, retryAfter, false));
  }

  /** The next {@code times} calls of {@code method} get no answer at all (the connection stays open, silent). */
  public synchronized void hangNext(String method, int times) {
    rules.add(new Rule(method, null, times, 0, null, -1, true));
  }

  public synchronized void clearRules() {
    rules.clear();
  }

  /**
   * A webhook is already set when the test starts (an earlier deployment ran in webhook mode): as in Telegram,
   * getUpdates answers 409 until someone calls deleteWebhook, and updates go to that URL meanwhile.
   */
  public synchronized void webhookLeftSet(String url) {
    webhookUrl = url;
    webhookSecret = null;
  }

  /** The person blocks the bot: sends to their chat answer 403, and a my_chat_member update says so. */
  public void blockBot(JsonObject user) {
    long id = user.getLong("id");
    synchronized (this) {
      blockedBy.add(id);
      StubChat chat = chat(id, "private");
      JsonObject member = new JsonObject()
          .put("chat", chat.json()).put("from", user).put("date", epoch())
          .put("old_chat_member", new JsonObject().put("status", "member").put("user", botUser()))
          .put("new_chat_member", new JsonObject().put("status", "kicked").put("user", botUser()));
      push(new JsonObject().put("my_chat_member", member));
    }
  }

  /** The person unblocks the bot (restarts it): sends work again, and a my_chat_member update says so. */
  public void unblockBot(JsonObject user) {
    long id = user.getLong("id");
    synchronized (this) {
      blockedBy.remove(id);
      JsonObject member = new JsonObject()
          .put("chat", chat(id, "private").json()).put("from", user).put("date", epoch())
          .put("old_chat_member", new JsonObject().put("status", "kicked").put("user", botUser()))
          .put("new_chat_member", new JsonObject().put("status", "member").put("user", botUser()));
      push(new JsonObject().put("my_chat_member", member));
    }
  }

  /** A group chat becomes a supergroup: sends to the old id answer 400 with migrate_to_chat_id. */
  public synchronized long migrateGroup(long groupId) {
    long newId = -1_000_000_000_000L + groupId;
    chat(groupId, "group").migratedTo = newId;
    chat(newId, "supergroup");
    return newId;
  }

  // ------------------------------------------------------------------ playing people

  /** A person with a private chat (chat id = user id). */
  public synchronized JsonObject user(long id, String firstName, String languageCode) {
    JsonObject u = new JsonObject().put("id", id).put("is_bot", false).put("first_name", firstName);
    if (languageCode != null) {
      u.put("language_code", languageCode);
    }
    users.put(id, u);
    chat(id, "private");
    return u;
  }

  public synchronized StubChat group(long id) {
    return chat(id, "group");
  }

  public long sendText(JsonObject user, String text) {
    return sendText(user, user.getLong("id"), text);
  }

  public synchronized long sendText(JsonObject user, long chatId, String text) {
    JsonObject m = userMessage(user, chatId, "text");
    m.put("text", text);
    if (text.startsWith("/")) {
      int end = text.indexOf(' ');
      m.put("entities", new JsonArray().add(new JsonObject().put("type", "bot_command").put("offset", 0)
          .put("length", end < 0 ? text.length() : end)));
    }
    record(chatId, m, "text", text, null);
    return m.getLong("message_id");
  }

  /** A photo (Telegram sends several sizes; the largest is the picture itself), with an optional caption. */
  public long sendPhoto(JsonObject user, Buffer image, String caption) {
    return sendPhoto(user, image, caption, null);
  }

  public synchronized long sendPhoto(JsonObject user, Buffer image, String caption, String mediaGroupId) {
    long chatId = user.getLong("id");
    ImageInfo info = ImageInfo.sniff(image.getBytes());
    int w = info == null ? 800 : info.width();
    int h = info == null ? 600 : info.height();
    StoredFile full = store("photos", "jpg", image, image.length());
    Buffer thumbBytes = recording ? thumbnail(image) : image;
    StoredFile thumb = store("photos", "jpg", thumbBytes, thumbBytes.length());
    double scale = 90.0 / Math.max(w, h);
    JsonArray sizes = new JsonArray()
        .add(photoSize(thumb, Math.max(1, (int) (w * scale)), Math.max(1, (int) (h * scale))))
        .add(photoSize(full, w, h));
    JsonObject m = userMessage(user, chatId, "photo").put("photo", sizes);
    if (caption != null) {
      m.put("caption", caption);
    }
    if (mediaGroupId != null) {
      m.put("media_group_id", mediaGroupId);
    }
    record(chatId, m, "photo", caption, image);
    return m.getLong("message_id");
  }

  /** A file; {@code bytes} may be null to fake a file of {@code size} bytes that is never downloaded. */
  public synchronized long sendDocument(JsonObject user, Buffer bytes, long size, String fileName, String mimeType, String caption) {
    long chatId = user.getLong("id");
    String ext = fileName.contains(".") ? fileName.substring(fileName.lastIndexOf('.') + 1) : "bin";
    StoredFile f = store("documents", ext, bytes, size);
    JsonObject doc = new JsonObject().put("file_id", f.fileId()).put("file_unique_id", f.uniqueId())
        .put("file_name", fileName).put("file_size", size);
    if (mimeType != null) {
      doc.put("mime_type", mimeType);
    }
    JsonObject m = userMessage(user, chatId, "document").put("document", doc);
    if (caption != null) {
      m.put("caption", caption);
    }
    record(chatId, m, "document", caption, bytes);
    return m.getLong("message_id");
  }

  public synchronized long sendSticker(JsonObject user) {
    long chatId = user.getLong("id");
    StoredFile f = store("stickers", "webp", Buffer.buffer(new byte[] {1, 2, 3}), 3);
    JsonObject m = userMessage(user, chatId, "sticker").put("sticker", new JsonObject().put("file_id", f.fileId())
        .put("file_unique_id", f.uniqueId()).put("type", "regular").put("width", 512).put("height", 512)
        .put("is_animated", false).put("is_video", false).put("emoji", "😀"));
    record(chatId, m, "sticker", null, null);
    return m.getLong("message_id");
  }

  public synchronized long sendVideo(JsonObject user, String caption) {
    long chatId = user.getLong("id");
    StoredFile f = store("videos", "mp4", null, 3_000_000);
    JsonObject m = userMessage(user, chatId, "video").put("video", new JsonObject().put("file_id", f.fileId())
        .put("file_unique_id", f.uniqueId()).put("width", 640).put("height", 360).put("duration", 5)
        .put("mime_type", "video/mp4").put("file_size", 3_000_000));
    if (caption != null) {
      m.put("caption", caption);
    }
    record(chatId, m, "video", caption, null);
    return m.getLong("message_id");
  }

  /** The person presses an inline button on a bot message. Returns the callback query id. */
  public synchronized String press(JsonObject user, StubChat.Message botMessage, String callbackData) {
    long chatId = chatOf(botMessage);
    String id = "cb" + (nextUpdateId + 7);
    JsonObject msg = new JsonObject().put("message_id", botMessage.id).put("from", botUser())
        .put("chat", chats.get(chatId).json()).put("date", epoch());
    if (botMessage.text != null) {
      msg.put("text", botMessage.text);
    }
    JsonObject cq = new JsonObject().put("id", id).put("from", user).put("message", msg)
        .put("chat_instance", "ci" + chatId).put("data", callbackData);
    push(new JsonObject().put("callback_query", cq));
    return id;
  }

  private long chatOf(StubChat.Message m) {
    for (StubChat c : chats.values()) {
      if (c.messages.contains(m)) {
        return c.id;
      }
    }
    throw new IllegalArgumentException("message not in any chat: " + m);
  }

  /** The update_id given to the last update injected. */
  public synchronized long lastUpdateId() {
    return nextUpdateId - 1;
  }

  /** Delivers an update again with its own update_id, as Telegram does when the bot did not confirm it. */
  public synchronized void redeliver(long updateId) {
    updates.add(pushed.get(updateId).copy());
    answerWaitingPoll();
  }

  /** Injects a raw update (any shape); returns its update_id. */
  public synchronized long pushRaw(JsonObject update) {
    return push(update);
  }

  private JsonObject userMessage(JsonObject user, long chatId, String kind) {
    StubChat chat = chats.get(chatId);
    if (chat == null) {
      // Not recording (the memory benchmark): nothing is kept per person, not even the chat.
      chat = recording ? chat(chatId, chatId > 0 ? "private" : "group") : new StubChat(chatId, chatId > 0 ? "private" : "group");
    }
    return new JsonObject().put("message_id", nextMessageId++).put("from", user).put("chat", chat.json())
        .put("date", epoch());
  }

  private void record(long chatId, JsonObject message, String kind, String textOrCaption, Buffer file) {
    if (recording && chats.containsKey(chatId)) {
      StubChat.Message m = new StubChat.Message(message.getLong("message_id"), false, kind);
      if ("text".equals(kind)) {
        m.text = textOrCaption;
      } else {
        m.caption = textOrCaption;
      }
      m.file = file;
      chats.get(chatId).add(m);
    }
    push(new JsonObject().put("message", message));
  }

  private long push(JsonObject update) {
    long id = nextUpdateId++;
    update.put("update_id", id);
    if (recording) {
      pushed.put(id, update.copy());
    }
    if (webhookUrl != null && !webhookUrl.isEmpty()) {
      postWebhook(update);
      return id;
    }
    updates.add(update);
    answerWaitingPoll();
    return id;
  }

  private StubChat chat(long id, String type) {
    return chats.computeIfAbsent(id, k -> new StubChat(k, type));
  }

  private StoredFile store(String dir, String ext, Buffer bytes, long size) {
    long n = nextFileNo++;
    String fileId = "AgAC" + dir.charAt(0) + n + "x" + Long.toHexString(System.nanoTime());
    StoredFile f = new StoredFile(fileId, "AQAD" + n, dir + "/file_" + n + "." + ext, size, bytes);
    if (recording) {
      files.put(fileId, f);
      filesByPath.put(f.path(), f);
    }
    return f;
  }

  private static JsonObject photoSize(StoredFile f, int w, int h) {
    return new JsonObject().put("file_id", f.fileId()).put("file_unique_id", f.uniqueId()).put("file_size", f.size())
        .put("width", w).put("height", h);
  }

  private static Buffer thumbnail(Buffer image) {
    try {
      BufferedImage src = ImageIO.read(new ByteArrayInputStream(image.getBytes()));
      if (src == null) {
        return image;
      }
      double scale = 90.0 / Math.max(src.getWidth(), src.getHeight());
      int w = Math.max(1, (int) (src.getWidth() * scale));
      int h = Math.max(1, (int) (src.getHeight() * scale));
      BufferedImage dst = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
      dst.getGraphics().drawImage(src.getScaledInstance(w, h, Image.SCALE_FAST), 0, 0, null);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ImageIO.write(dst, "jpg", out);
      return Buffer.buffer(out.toByteArray());
    } catch (Exception e) {
      return image;
    }
  }

  // ------------------------------------------------------------------ what tests look at

  public synchronized StubChat chatOf(long id) {
    return chats.get(id);
  }

  /** The bot's messages in a person's private chat. */
  public List<StubChat.Message> botMessages(JsonObject user) {
    StubChat c = chatOf(user.getLong("id"));
    return c == null ? List.of() : c.botMessages();
  }

  public List<StubChat.Message> botMessages(long chatId) {
    StubChat c = chatOf(chatId);
    return c == null ? List.of() : c.botMessages();
  }

  public List<Call> calls() {
    return List.copyOf(calls);
  }

  public List<Call> calls(String method) {
    return calls.stream().filter(c -> c.method().equalsIgnoreCase(method)).toList();
  }

  private void addCall(Call c) {
    callsPerMethod.computeIfAbsent(c.method(), k -> new AtomicLong()).incrementAndGet();
    if (recording) {
      calls.add(c);
    }
  }

  /** How many calls of a method arrived (counted even when not recording). */
  public long count(String method) {
    AtomicLong n = callsPerMethod.get(method.toLowerCase(Locale.ROOT));
    return n == null ? 0 : n.get();
  }

  public long callCount() {
    return callCount.get();
  }

  public List<JsonObject> callbackAnswers() {
    return List.copyOf(callbackAnswers);
  }

  public List<JsonObject> commandsSet() {
    return List.copyOf(commandsSet);
  }

  /** 409 answers given because two getUpdates overlapped. */
  public int conflicts() {
    return conflicts.get();
  }

  /** True while a long poll is parked waiting for updates. */
  public synchronized boolean pollWaiting() {
    return waiting != null;
  }

  public synchronized int pendingUpdates() {
    return updates.size();
  }

  public synchronized Set<String> allowedUpdates() {
    return allowedUpdates == null ? null : Set.copyOf(allowedUpdates);
  }

  public synchronized String webhookUrl() {
    return webhookUrl;
  }

  public List<Integer> webhookStatuses() {
    return List.copyOf(webhookStatuses);
  }

  // ------------------------------------------------------------------ HTTP

  private void onRequest(HttpServerRequest req) {
    callCount.incrementAndGet();
    String path = req.path();
    Matcher file = FILE_PATH.matcher(path);
    if (file.matches()) {
      serveFile(req, file.group(1), file.group(2));
      return;
    }
    Matcher api = API_PATH.matcher(path);
    if (!api.matches()) {
      req.response().setStatusCode(404).end(error(404, "Not Found").encode());
      return;
    }
    String token = api.group(1);
    String method = api.group(2).toLowerCase(Locale.ROOT);
    String contentType = String.valueOf(req.getHeader(HttpHeaders.CONTENT_TYPE)).toLowerCase(Locale.ROOT);
    JsonObject params = new JsonObject();
    req.params().forEach((k, v) -> params.put(k, v));
    Map<String, Upload> uploads = new HashMap<>();
    if (contentType.startsWith("multipart/form-data") || contentType.startsWith("application/x-www-form-urlencoded")) {
      req.setExpectMultipart(true);
      req.uploadHandler(up -> {
        Buffer data = Buffer.buffer();
        up.handler(data::appendBuffer);
        up.endHandler(v -> uploads.put(up.name(), new Upload(up.filename(), up.contentType(), data)));
      });
      req.endHandler(v -> {
        MultiMap form = req.formAttributes();
        form.forEach((k, val) -> params.put(k, val));
        dispatch(req, token, method, params, uploads);
      });
    } else {
      req.body().onSuccess(body -> {
        if (contentType.startsWith("application/json") && body.length() > 0) {
          try {
            params.mergeIn(body.toJsonObject());
          } catch (RuntimeException e) {
            answer(req, method, null, params, 400, error(400, "Bad Request: can't parse JSON object"));
            return;
          }
        }
        dispatch(req, token, method, params, uploads);
      });
    }
  }

  private record Upload(String fileName, String contentType, Buffer data) {}

  private void dispatch(HttpServerRequest req, String token, String method, JsonObject params, Map<String, Upload> uploads) {
    Long chatId = longParam(params, "chat_id");
    if (!TOKEN.equals(token)) {
      answer(req, method, chatId, params, 401, error(401, "Unauthorized"));
      return;
    }
    Rule rule = matchRule(method, chatId);
    if (rule != null) {
      if (rule.hang) {
        synchronized (this) {
          hanging.add(req.response());
        }
        addCall(new Call(method, chatId, nowMs(), 0, params));
        return;
      }
      JsonObject err = error(rule.code, rule.description);
      if (rule.retryAfter >= 0) {
        err.put("parameters", new JsonObject().put("retry_after", rule.retryAfter));
      }
      answer(req, method, chatId, params, rule.code, err);
      return;
    }
    JsonObject result;
    synchronized (this) {
      result = handle(req, method, chatId, params, uploads);
    }
    if (result != null) {
      int status = result.getBoolean("ok") ? 200 : result.getInteger("error_code");
      answer(req, method, chatId, params, status, result);
    }
  }

  private synchronized Rule matchRule(String method, Long chatId) {
    for (Iterator<Rule> it = rules.iterator(); it.hasNext(); ) {
      Rule r = it.next();
      if ((r.method == null || r.method.equals(method)) && (r.chat == null || r.chat.equals(chatId))) {
        if (r.remaining.decrementAndGet() <= 0) {
          it.remove();
        }
        return r;
      }
    }
    return null;
  }

  private void answer(HttpServerRequest req, String method, Long chatId, JsonObject params, int status, JsonObject body) {
    addCall(new Call(method, chatId, nowMs(), status, params));
    if (req.response().closed()) {
      return;
    }
    req.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(body.encode());
  }

  /** Runs one method; returns the answer, or null when it will be answered later (a waiting long poll). */
  private JsonObject handle(HttpServerRequest req, String method, Long chatId, JsonObject params, Map<String, Upload> uploads) {
    switch (method) {
      case "getme":
        return ok(botUser().put("can_join_groups", true));
      case "deletewebhook":
        webhookUrl = "";
        webhookSecret = null;
        if (Boolean.parseBoolean(String.valueOf(params.getValue("drop_pending_updates")))) {
          updates.clear();
        }
        return ok(true).put("description", "Webhook was deleted");
      case "setwebhook":
        return setWebhook(params);
      case "getwebhookinfo":
        return ok(new JsonObject().put("url", webhookUrl).put("has_custom_certificate", false)
            .put("pending_update_count", updates.size()));
      case "getupdates":
        return getUpdates(req, params);
      case "setmycommands":
        commandsSet.add(params.copy());
        return ok(true);
      case "answercallbackquery":
        if (params.getString("callback_query_id") == null) {
          return error(400, "Bad Request: query_id is empty");
        }
        callbackAnswers.add(params.copy());
        return ok(true);
      case "sendmessage":
        return sendMessage(chatId, params);
      case "editmessagetext":
        return editMessageText(chatId, params);
      case "sendphoto":
        return sendFile(chatId, params, uploads, "photo");
      case "senddocument":
        return sendFile(chatId, params, uploads, "document");
      case "getfile":
        return getFile(params);
      default:
        return error(404, "Not Found: method not found");
    }
  }

  private JsonObject setWebhook(JsonObject params) {
    String url = params.getString("url", "");
    webhookUrl = url;
    webhookSecret = params.getString("secret_token");
    Object allowed = params.getValue("allowed_updates");
    if (allowed != null) {
      allowedUpdates = parseList(allowed);
    }
    if (waiting != null) {
      Poll w = waiting;
      waiting = null;
      vertx.cancelTimer(w.timer);
      endPoll(w, 409, error(409, "Conflict: terminated by setWebhook request"));
    }
    return ok(true).put("description", url.isEmpty() ? "Webhook was deleted" : "Webhook was set");
  }

  private JsonObject getUpdates(HttpServerRequest req, JsonObject params) {
    if (!webhookUrl.isEmpty()) {
      return error(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first");
    }
    Long offset = longParam(params, "offset");
    int limit = (int) Math.max(1, Math.min(100, longOr(params, "limit", 100)));
    long timeout = Math.max(0, Math.min(50, longOr(params, "timeout", 0)));
    Object allowed = params.getValue("allowed_updates");
    if (allowed != null) {
      allowedUpdates = parseList(allowed);
    }
    if (waiting != null) {
      // tdlib: a new poll aborts the one still waiting, which fails with 409.
      Poll w = waiting;
      waiting = null;
      vertx.cancelTimer(w.timer);
      conflicts.incrementAndGet();
      concurrentPollsSeen.incrementAndGet();
      endPoll(w, 409, error(409, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"));
    }
    if (offset != null) {
      while (!updates.isEmpty() && updates.peekFirst().getLong("update_id") < offset) {
        updates.pollFirst(); // confirmed
      }
    }
    JsonArray ready = takeUpdates(offset == null ? 0 : offset, limit);
    if (!ready.isEmpty() || timeout == 0) {
      return ok(ready);
    }
    Poll p = new Poll(req.response(), offset == null ? 0 : offset, limit);
    waiting = p;
    addCall(new Call("getupdates", null, nowMs(), 0, params)); // a long poll, waiting: status 0 until answered
    p.timer = vertx.setTimer(timeout * 1000, t -> {
      synchronized (this) {
        if (waiting != p) {
          return;
        }
        waiting = null;
      }
      endPoll(p, 200, ok(new JsonArray()));
    });
    req.response().closeHandler(v -> {
      synchronized (this) {
        if (waiting == p) {
          waiting = null;
          vertx.cancelTimer(p.timer);
        }
      }
    });
    return null;
  }

  private JsonArray takeUpdates(long offset, int limit) {
    JsonArray out = new JsonArray();
    for (JsonObject u : updates) {
      if (out.size() >= limit) {
        break;
      }
      if (u.getLong("update_id") >= offset && allowed(u)) {
        out.add(u.copy());
      }
    }
    return out;
  }

  private boolean allowed(JsonObject update) {
    if (allowedUpdates == null || allowedUpdates.isEmpty()) {
      return true;
    }
    return update.fieldNames().stream().anyMatch(allowedUpdates::contains);
  }

  private void answerWaitingPoll() {
    Poll p = waiting;
    if (p == null) {
      return;
    }
    JsonArray ready = takeUpdates(p.offsetGiven, p.limit);
    if (ready.isEmpty()) {
      return;
    }
    waiting = null;
    vertx.cancelTimer(p.timer);
    endPoll(p, 200, ok(ready));
  }

  private void endPoll(Poll p, int status, JsonObject body) {
    addCall(new Call("getupdates-answer", null, nowMs(), status, new JsonObject()));
    vertx.runOnContext(v -> {
      if (!p.response.closed() && !p.response.ended()) {
        p.response.setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(body.encode());
      }
    });
  }

  private JsonObject checkChat(Long chatId, JsonObject params) {
    if (chatId == null) {
      return error(400, "Bad Request: chat_id is empty");
    }
    StubChat chat = chats.get(chatId);
    if (chat == null && !recording) {
      return null; // not recording: every chat exists, nothing is kept about it
    }
    if (chat == null) {
      return error(400, "Bad Request: chat not found");
    }
    if (chat.migratedTo != null) {
      return error(400, "Bad Request: group chat was upgraded to a supergroup chat")
          .put("parameters", new JsonObject().put("migrate_to_chat_id", chat.migratedTo));
    }
    if (blockedBy.contains(chatId)) {
      return error(403, "Forbidden: bot was blocked by the user");
    }
    return null;
  }

  private JsonObject sendMessage(Long chatId, JsonObject params) {
    JsonObject bad = checkChat(chatId, params);
    if (bad != null) {
      return bad;
    }
    String text = params.getString("text");
    if (text == null || text.isBlank()) {
      return error(400, "Bad Request: message text is empty");
    }
    if (text.codePointCount(0, text.length()) > 4096) {
      return error(400, "Bad Request: message is too long");
    }
    JsonObject markup = markup(params);
    if (markup != null && markup.containsKey("error")) {
      return markup.getJsonObject("error");
    }
    StubChat.Message m = new StubChat.Message(nextMessageId++, true, "text");
    m.text = text;
    m.replyMarkup = markup;
    m.replyTo = replyTo(params);
    m.history.add(text);
    if (!recording) {
      return ok(new JsonObject().put("message_id", m.id).put("chat", new JsonObject().put("id", chatId)).put("text", text));
    }
    chats.get(chatId).add(m);
    return ok(messageJson(chatId, m));
  }

  private JsonObject editMessageText(Long chatId, JsonObject params) {
    JsonObject bad = checkChat(chatId, params);
    if (bad != null) {
      return bad;
    }
    StubChat.Message m = chats.get(chatId).find(longOr(params, "message_id", -1));
    if (m == null || !m.fromBot) {
      return error(400, "Bad Request: message to edit not found");
    }
    if (m.text == null) {
      return error(400, "Bad Request: there is no text in the message to edit");
    }
    String text = params.getString("text");
    if (text == null || text.isBlank()) {
      return error(400, "Bad Request: message text is empty");
    }
    JsonObject markup = markup(params);
    if (markup != null && markup.containsKey("error")) {
      return markup.getJsonObject("error");
    }
    if (text.equals(m.text) && java.util.Objects.equals(markup, m.replyMarkup)) {
      return error(400, "Bad Request: message is not modified: specified new message content and reply markup are exactly "
          + "the same as a current content and reply markup of the message");
    }
    synchronized (m) {
      m.text = text;
      m.replyMarkup = markup;
      m.history.add(text);
    }
    return ok(messageJson(chatId, m));
  }

  private JsonObject sendFile(Long chatId, JsonObject params, Map<String, Upload> uploads, String field) {
    JsonObject bad = checkChat(chatId, params);
    if (bad != null) {
      return bad;
    }
    Upload up = uploads.get(field);
    String ref = params.getString(field);
    if (up == null && ref != null && ref.startsWith("attach://")) {
      up = uploads.get(ref.substring("attach://".length()));
    }
    Buffer data;
    String fileName;
    String mime;
    if (up != null) {
      data = up.data();
      fileName = up.fileName();
      mime = up.contentType();
    } else if (ref != null && files.containsKey(ref)) {
      StoredFile f = files.get(ref);
      data = f.bytes();
      fileName = f.path();
      mime = null;
    } else {
      return error(400, "Bad Request: there is no " + field + " in the request");
    }
    String caption = params.getString("caption");
    if (caption != null && caption.codePointCount(0, caption.length()) > 1024) {
      return error(400, "Bad Request: message caption is too long");
    }
    JsonObject markup = markup(params);
    if (markup != null && markup.containsKey("error")) {
      return markup.getJsonObject("error");
    }
    StubChat.Message m = new StubChat.Message(nextMessageId++, true, field);
    JsonObject json;
    if ("photo".equals(field)) {
      if (data.length() > MAX_PHOTO_UPLOAD) {
        return error(400, "Bad Request: PHOTO_INVALID_DIMENSIONS");
      }
      ImageInfo info = ImageInfo.sniff(data.getBytes());
      if (info == null) {
        return error(400, "Bad Request: IMAGE_PROCESS_FAILED");
      }
      double ratio = Math.max(info.width(), info.height()) / (double) Math.min(info.width(), info.height());
      if (info.width() + info.height() > 10_000 || ratio > 20) {
        return error(400, "Bad Request: PHOTO_INVALID_DIMENSIONS");
      }
      StoredFile f = store("photos", "jpg", data, data.length());
      json = messageJson(chatId, m).put("photo", new JsonArray().add(photoSize(f, info.width(), info.height())));
    } else {
      if (data.length() > MAX_DOCUMENT_UPLOAD) {
        return error(413, "Request Entity Too Large");
      }
      StoredFile f = store("documents", "bin", data, data.length());
      json = messageJson(chatId, m).put("document", new JsonObject().put("file_id", f.fileId())
          .put("file_unique_id", f.uniqueId()).put("file_name", fileName).put("mime_type", mime).put("file_size", data.length()));
    }
    m.caption = caption;
    m.file = data;
    m.fileName = fileName;
    m.mimeType = mime;
    m.replyMarkup = markup;
    m.replyTo = replyTo(params);
    m.history.add(caption == null ? "" : caption);
    if (recording) {
      chats.get(chatId).add(m);
    }
    if (caption != null) {
      json.put("caption", caption);
    }
    return ok(json);
  }

  private JsonObject getFile(JsonObject params) {
    StoredFile f = files.get(params.getString("file_id", ""));
    if (f == null) {
      return error(400, "Bad Request: invalid file_id");
    }
    if (f.size() > MAX_DOWNLOAD) {
      return error(400, "Bad Request: file is too big");
    }
    return ok(new JsonObject().put("file_id", f.fileId()).put("file_unique_id", f.uniqueId()).put("file_size", f.size())
        .put("file_path", f.path()));
  }

  private void serveFile(HttpServerRequest req, String token, String path) {
    StoredFile f;
    synchronized (this) {
      f = filesByPath.get(path);
    }
    addCall(new Call("file", null, nowMs(), f == null ? 404 : 200, new JsonObject().put("path", path)));
    if (!TOKEN.equals(token)) {
      req.response().setStatusCode(401).end();
    } else if (f == null || f.bytes() == null || req.method() != HttpMethod.GET) {
      req.response().setStatusCode(404).end(error(404, "Not Found: file not found").encode());
    } else {
      req.response().setStatusCode(200).putHeader(HttpHeaders.CONTENT_TYPE, "application/octet-stream").end(f.bytes());
    }
  }

  private void postWebhook(JsonObject update) {
    String url = webhookUrl;
    String secret = webhookSecret;
    var req = webhookClient.postAbs(url).putHeader("Content-Type", "application/json");
    if (secret != null) {
      req.putHeader("X-Telegram-Bot-Api-Secret-Token", secret);
    }
    req.sendJsonObject(update).onComplete(ar -> webhookStatuses.add(ar.succeeded() ? ar.result().statusCode() : -1));
  }

  /** Posts an update to a webhook URL the way Telegram does, with a chosen secret header (or none); returns the status. */
  public int postToWebhook(String url, JsonObject update, String secretHeader) {
    var req = webhookClient.postAbs(url).putHeader("Content-Type", "application/json");
    if (secretHeader != null) {
      req.putHeader("X-Telegram-Bot-Api-Secret-Token", secretHeader);
    }
    try {
      return req.sendJsonObject(update).await(10, TimeUnit.SECONDS).statusCode();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  // ------------------------------------------------------------------ helpers

  private JsonObject messageJson(long chatId, StubChat.Message m) {
    JsonObject j = new JsonObject().put("message_id", m.id).put("from", botUser()).put("chat", chats.get(chatId).json())
        .put("date", epoch());
    if (m.text != null) {
      j.put("text", m.text);
    }
    if (m.replyMarkup != null) {
      j.put("reply_markup", m.replyMarkup);
    }
    return j;
  }

  private static JsonObject markup(JsonObject params) {
    Object raw = params.getValue("reply_markup");
    if (raw == null) {
      return null;
    }
    JsonObject markup;
    try {
      markup = raw instanceof JsonObject j ? j : new JsonObject(raw.toString());
    } catch (RuntimeException e) {
      return new JsonObject().put("error", error(400, "Bad Request: can't parse reply keyboard markup JSON object"));
    }
    JsonArray rows = markup.getJsonArray("inline_keyboard");
    if (rows != null) {
      for (Object row : rows) {
        for (Object b : (JsonArray) row) {
          String data = ((JsonObject) b).getString("callback_data");
          if (data != null && (data.isEmpty() || data.getBytes(StandardCharsets.UTF_8).length > 64)) {
            return new JsonObject().put("error", error(400, "Bad Request: BUTTON_DATA_INVALID"));
          }
        }
      }
    }
    return markup;
  }

  private static Long replyTo(JsonObject params) {
    Object raw = params.getValue("reply_parameters");
    if (raw != null) {
      JsonObject rp = raw instanceof JsonObject j ? j : new JsonObject(raw.toString());
      return rp.getLong("message_id");
    }
    return longParam(params, "reply_to_message_id");
  }

  private static Set<String> parseList(Object raw) {
    JsonArray arr = raw instanceof JsonArray a ? a : new JsonArray(raw.toString());
    Set<String> out = new HashSet<>();
    arr.forEach(v -> out.add(String.valueOf(v)));
    return out;
  }

  private static Long longParam(JsonObject params, String name) {
    Object v = params.getValue(name);
    if (v == null) {
      return null;
    }
    if (v instanceof Number n) {
      return n.longValue();
    }
    try {
      return Long.parseLong(v.toString().trim());
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static long longOr(JsonObject params, String name, long fallback) {
    Long v = longParam(params, name);
    return v == null ? fallback : v;
  }

  private static JsonObject botUser() {
    return new JsonObject().put("id", BOT_ID).put("is_bot", true).put("first_name", "QwenEdit")
        .put("username", "qwenedit_test_bot");
  }

  private static long epoch() {
    return System.currentTimeMillis() / 1000;
  }

  private static JsonObject ok(Object result) {
    return new JsonObject().put("ok", true).put("result", result);
  }

  static JsonObject error(int code, String description) {
    return new JsonObject().put("ok", false).put("error_code", code).put("description", description);
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Waits (test thread) until a predicate over the bot's messages in a chat holds; returns the matching message. */
  public StubChat.Message awaitBotMessage(long chatId, String what, java.time.Duration limit, Predicate<StubChat.Message> p) {
    long deadline = System.nanoTime() + limit.toNanos();
    while (System.nanoTime() < deadline) {
      for (StubChat.Message m : botMessages(chatId)) {
        if (p.test(m)) {
          return m;
        }
      }
      sleep(20);
    }
    throw new AssertionError("timed out after " + limit + " waiting for a bot message: " + what + "; chat " + chatId
        + " shows " + botMessages(chatId));
  }
}
