package io.qwenedit.bot;

import static io.qwenedit.testing.Await.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qwenedit.testing.Await;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The bot's outage file: what is asked to be written is on disk when the save resolves; a broken file is kept aside. */
@ExtendWith(VertxExtension.class)
class OutageFileTest {
  @TempDir
  Path dir;

  private static JsonObject update(long id) {
    return new JsonObject().put("update_id", id).put("message", new JsonObject().put("text", "kept " + id));
  }

  @Test
  void aBurstOfChangesEndsOnDiskAsTheListStandsAndAnEmptyListRemovesTheFile(Vertx vertx) throws Exception {
    Path file = dir.resolve("sub").resolve("outage.jsonl");
    List<JsonObject> kept = new ArrayList<>();
    OutageFile f = new OutageFile(vertx, file, () -> new ArrayList<>(kept));
    List<Future<Void>> saves = new ArrayList<>();
    Future<Void> all = Future.future(p -> vertx.runOnContext(v -> {
      for (long i = 1; i <= 50; i++) {
        kept.add(update(i));
        saves.add(f.save());
      }
      Future.all(saves).<Void>mapEmpty().onComplete(p);
    }));
    await(all);
    List<String> lines = Files.readAllLines(file);
    assertEquals(50, lines.size(), "every change is on disk once its save resolved");
    assertEquals(50L, new JsonObject(lines.get(49)).getLong("update_id"), "oldest first");
    assertEquals(kept, await(new OutageFile(vertx, file, List::of).load()), "a later run reads the same list");
    try (Stream<Path> s = Files.list(file.getParent())) {
      assertEquals(List.of(file), s.toList(), "no temporary file is left behind");
    }

    await(Future.<Void>future(p -> vertx.runOnContext(v -> {
      kept.clear();
      f.save().onComplete(p);
    })));
    assertFalse(Files.exists(file), "nothing kept: no file");
  }

  @Test
  void anUnreadableFileIsMovedAsideNotOverwritten(Vertx vertx) throws Exception {
    Path file = dir.resolve("outage.jsonl");
    Files.write(file, new byte[] {(byte) 0xC3, (byte) 0x28, '\n'}); // not UTF-8
    Throwable err = Await.failure(new OutageFile(vertx, file, List::of).load());
    assertTrue(err.getMessage().contains("moved aside"), err.getMessage());
    assertFalse(Files.exists(file));
    try (Stream<Path> s = Files.list(dir)) {
      assertEquals(1, s.filter(p -> p.getFileName().toString().startsWith("outage.jsonl.unreadable-")).count());
    }
  }

  @Test
  void aLineThatIsNotAnUpdateIsSkipped(Vertx vertx) throws Exception {
    Path file = dir.resolve("outage.jsonl");
    Files.writeString(file, update(7).encode() + "\nnot json\n" + update(8).encode() + "\n");
    List<JsonObject> read = await(new OutageFile(vertx, file, List::of).load());
    assertEquals(List.of(update(7), update(8)), read);
  }

  @Test
  void aFileThatCannotBeWrittenFailsTheSaveAndTheNextSaveStillRuns(Vertx vertx) throws Exception {
    Path notADir = dir.resolve("plain");
    Files.writeString(notADir, "x");
    List<JsonObject> kept = new ArrayList<>(List.of(update(1)));
    OutageFile f = new OutageFile(vertx, notADir.resolve("outage.jsonl"), () -> new ArrayList<>(kept));
    Context ctx = vertx.getOrCreateContext();
    // a failing write is over almost at once, often before its handler is attached: every later save must still
    // run in its turn (one of them once waited for ever after such a write)
    for (int i = 0; i < 200; i++) {
      Throwable err = Await.failure(onContext(ctx, f::save));
      assertTrue(err.getMessage().contains("plain"), "save " + i + ": the failure names the path: " + err.getMessage());
    }
    await(onContext(ctx, f::flushed));
  }

  @Test
  void quickWritesOneAfterAnotherEachResolve(Vertx vertx) throws Exception {
    Path file = dir.resolve("outage.jsonl");
    OutageFile f = new OutageFile(vertx, file, List::of); // nothing kept: each write is a quick "remove if present"
    Context ctx = vertx.getOrCreateContext();
    for (int i = 0; i < 200; i++) {
      await(onContext(ctx, f::save));
    }
    await(onContext(ctx, f::flushed));
    assertFalse(Files.exists(file));
  }

  @Test
  void aWriteThatHangsFailsItsSavesInTimeAndTheFileCatchesUpWhenTheDiskAnswers(Vertx vertx) throws Exception {
    Path file = dir.resolve("outage.jsonl");
    Path tmp = dir.resolve("outage.jsonl.tmp");
    // a FIFO where the write goes: opening it for writing blocks in the kernel until someone reads, as a hung disk
    assertEquals(0, new ProcessBuilder("mkfifo", tmp.toString()).inheritIO().start().waitFor());
    List<JsonObject> kept = new ArrayList<>(List.of(update(1)));
    OutageFile f = new OutageFile(vertx, file, () -> new ArrayList<>(kept), java.time.Duration.ofMillis(300));
    Context ctx = vertx.getOrCreateContext();
    long t0 = System.nanoTime();
    Throwable err = Await.failure(onContext(ctx, f::save));
    assertTrue(err.getMessage().contains("has not finished after 300 ms"), err.getMessage());
    assertTrue(System.nanoTime() - t0 < 5_000_000_000L, "failed within its limit, not when the disk came back");

    // while it hangs: a save fails at once (no second write is sent after the hung one), and a stop does not wait
    long t1 = System.nanoTime();
    Throwable again = Await.failure(onContext(ctx, () -> {
      kept.add(update(2));
      return f.save();
    }));
    assertTrue(again.getMessage().contains("has not finished"), again.getMessage());
    assertTrue(System.nanoTime() - t1 < 250_000_000L, "at once");
    await(onContext(ctx, f::flushed));

    // the disk answers: the hung write completes, then the list as it now stands is written
    String drained = new String(Files.readAllBytes(tmp), java.nio.charset.StandardCharsets.UTF_8);
    assertTrue(drained.contains("\"update_id\":1"), drained);
    long deadline = System.currentTimeMillis() + 10_000;
    List<String> lines = List.of();
    while (System.currentTimeMillis() < deadline) {
      if (Files.isRegularFile(file) && (lines = Files.readAllLines(file)).size() == 2) {
        break;
      }
      Thread.sleep(50);
    }
    assertEquals(2, lines.size(), "both kept requests on disk once it answers: " + lines);
    assertEquals(2L, new JsonObject(lines.get(1)).getLong("update_id"));
    await(onContext(ctx, f::save)); // and saves work again
  }

  @Test
  void aFileWhoseReadHangsAtStartIsNeitherWaitedForNorOverwritten(Vertx vertx) throws Exception {
    Path file = dir.resolve("outage.jsonl");
    // a FIFO nobody writes to: opening it for reading blocks in the kernel, as a hung disk
    assertEquals(0, new ProcessBuilder("mkfifo", file.toString()).inheritIO().start().waitFor());
    List<JsonObject> kept = new ArrayList<>(List.of(update(1)));
    OutageFile f = new OutageFile(vertx, file, () -> new ArrayList<>(kept), java.time.Duration.ofMillis(300));
    Context ctx = vertx.getOrCreateContext();
    try {
      long t0 = System.nanoTime();
      Throwable err = Await.failure(Future.<List<JsonObject>>future(p -> ctx.runOnContext(v -> f.load().onComplete(p))));
      assertTrue(err.getMessage().contains("has not finished after 300 ms"), err.getMessage());
      assertTrue(System.nanoTime() - t0 < 5_000_000_000L, "the bot's start is not held");
      Throwable save = Await.failure(onContext(ctx, f::save));
      assertTrue(save.getMessage().contains("could not be read at start"), save.getMessage());
      await(onContext(ctx, f::flushed));
      assertTrue(Files.exists(file) && !Files.isRegularFile(file), "the earlier file (the FIFO) is left as it is");
    } finally {
      // release the hung read: a writer opens the FIFO and closes it, the reader sees the end
      Files.writeString(file, "");
    }
  }

  /** Runs a call on the one context the file is used from, as the bot does. */
  private static Future<Void> onContext(Context ctx, Supplier<Future<Void>> call) {
    return Future.future(p -> ctx.runOnContext(v -> call.get().onComplete(p)));
  }
}
