package io.qwenedit.bot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class SendSchedulerTest {
  @Test
  void oneChatGetsABurstThenOneMessagePerInterval() {
    SendScheduler<String> s = new SendScheduler<>(1000, 30, 0);
    for (int i = 0; i < 5; i++) {
      s.add(1, "m" + i, null, 0);
    }
    long now = 0;
    for (int i = 0; i < SendScheduler.BURST; i++) {
      SendScheduler.Next<String> n = s.next(now);
      assertEquals("m" + i, n.call());
      assertNull(s.next(now).call(), "one call in flight per chat");
      s.done(1, now);
    }
    SendScheduler.Next<String> wait = s.next(now);
    assertNull(wait.call());
    assertEquals(1000, wait.waitMs(), "the bucket is empty: the next in a second");
    assertEquals("m3", s.next(1000).call());
  }

  @Test
  void groupsAreSlowerThanPrivateChats() {
    SendScheduler<String> s = new SendScheduler<>(1000, 30, 0);
    for (int i = 0; i < 4; i++) {
      s.add(-5, "g" + i, null, 0);
    }
    for (int i = 0; i < 3; i++) {
      s.next(0);
      s.done(-5, 0);
    }
    assertEquals(3000, s.next(0).waitMs());
  }

  @Test
  void theGlobalRateHoldsAcrossChats() {
    SendScheduler<String> s = new SendScheduler<>(1000, 10, 0);
    for (long chat = 1; chat <= 20; chat++) {
      s.add(chat, "c" + chat, null, 0);
    }
    int sent = 0;
    while (s.next(0).call() != null) {
      sent++;
    }
    assertEquals(10, sent, "ten per second in all");
    assertEquals(100, s.next(0).waitMs());
  }

  @Test
  void aPausedChatWaitsOthersDoNot() {
    SendScheduler<String> s = new SendScheduler<>(0, 100, 0);
    s.add(1, "a1", null, 0);
    assertEquals("a1", s.next(0).call());
    s.pause(1, 5000, 0);
    s.addFirst(1, "a1", 0);
    s.done(1, 0);
    s.add(2, "b1", null, 0);
    assertEquals("b1", s.next(0).call());
    assertEquals(5000, s.next(0).waitMs());
    assertEquals("a1", s.next(5000).call());
  }

  @Test
  void waitingEditsOfOneMessageAreMerged() {
    SendScheduler<String> s = new SendScheduler<>(1000, 30, 0);
    s.add(1, "busy", null, 0);
    s.next(0); // in flight
    assertNull(s.add(1, "edit v1", "edit:1:9", 0));
    assertSame("edit v1", s.add(1, "edit v2", "edit:1:9", 0), "the waiting edit is handed back to merge into");
    assertEquals(1, s.queued());
  }

  @Test
  void drainingAChatReturnsWhatWaited() {
    SendScheduler<String> s = new SendScheduler<>(1000, 30, 0);
    s.add(1, "x", null, 0);
    s.add(1, "y", null, 0);
    s.add(2, "z", null, 0);
    assertEquals(List.of("x", "y"), s.drain(1));
    assertEquals("z", s.next(0).call());
    assertNull(s.next(0).call());
  }

  @Test
  void aChatWithNothingLeftToRememberIsForgottenAtOnce() {
    SendScheduler<String> s = new SendScheduler<>(0, 100, 0);
    s.add(1, "x", null, 0);
    s.next(0);
    s.done(1, 0);
    assertEquals(0, s.lanes());
  }

  @Test
  void idleChatsAreForgotten() {
    SendScheduler<Integer> s = new SendScheduler<>(100, 100_000, 0);
    for (int chat = 1; chat <= 10_000; chat++) {
      s.add(chat, chat, null, 0);
    }
    for (int i = 0; i < 10_000; i++) {
      SendScheduler.Next<Integer> n = s.next(0);
      s.done(n.chatId(), 0);
    }
    assertEquals(10_000, s.lanes());
    s.next(60_000);
    assertEquals(0, s.lanes(), "nothing kept per chat once its messages are out");
    assertTrue(s.next(60_000).waitMs() < 0);
  }
}
