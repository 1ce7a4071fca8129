package io.qwenedit.supervision;

import io.qwenedit.worker.Addresses;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A verticle the {@link SupervisorVerticle} watches. It answers pings with its progress heartbeat: when it last made
 * real progress (the poller finished a wait cycle, the dispatcher saw a ComfyUI message) and within how long the next
 * progress is due (or -1 while it has nothing to do). With test switches enabled it can be told to stall.
 */
public abstract class SupervisedVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(SupervisedVerticle.class);

  private final boolean testSwitches;
  private final List<MessageConsumer<?>> consumers = new ArrayList<>();
  private volatile long progressAt = System.currentTimeMillis();
  private volatile java.util.Set<String> stallModes = java.util.Set.of();

  protected SupervisedVerticle(boolean testSwitches) {
    this.testSwitches = testSwitches;
  }

  /** The name the supervisor knows it by ("poller", "dispatch", ...). */
  public abstract String name();

  /** Milliseconds within which the next progress is due from now on, or -1 when idle. */
  protected abstract long progressDueWithinMs();

  /** What the verticle starts: clients, consumers, loops. */
  protected abstract Future<?> startService();

  /** What it closes; bounded in time by the supervisor. */
  protected Future<?> stopService() {
    return Future.succeededFuture();
  }

  /** Extra detail for the supervisor and the health endpoint. */
  protected JsonObject detail() {
    return new JsonObject();
  }

  /** Records real progress (the heartbeat that means "I moved forward"). */
  protected final void progressed() {
    if (stallModes.isEmpty()) {
      progressAt = System.currentTimeMillis();
    }
  }

  /** True once a test switch told this instance to stall: its loops stop moving. */
  protected final boolean stalled() {
    return !stallModes.isEmpty();
  }

  /** Registers a local consumer that is unregistered on stop. */
  protected final <T> MessageConsumer<T> consume(String address, io.vertx.core.Handler<io.vertx.core.eventbus.Message<T>> handler) {
    MessageConsumer<T> c = vertx.eventBus().localConsumer(address, handler);
    consumers.add(c);
    return c;
  }

  @Override
  public final Future<?> start() {
    consume(Addresses.ping(name()), msg -> {
      if (stallModes.contains("silent")) {
        return; // as if the event loop were stuck: no answer at all
      }
      msg.reply(new JsonObject().put("progress_at", progressAt).put("due_within_ms", progressDueWithinMs())
          .put("detail", detail()));
    });
    if (testSwitches) {
      consume(Addresses.testSwitch(name()), msg -> {
        // modes, combined with '+': stall (stop moving), silent (also no answer to pings), hang-stop (stop() never ends)
        String mode = ((JsonObject) msg.body()).getString("mode", "stall");
        LOG.warn("test switch: verticle {} now stalls (mode {})", name(), mode);
        stallModes = java.util.Set.of(mode.split("\\+"));
        msg.reply(new JsonObject().put("mode", mode));
      });
    }
    return Future.all(consumers.stream().map(MessageConsumer::completion).toList()).compose(v -> startService());
  }

  @Override
  public final Future<?> stop() {
    // First take no more messages, so a replacement instance gets all new work even if this stop never ends.
    Future<Void> unregistered = Future.join(consumers.stream().map(MessageConsumer::unregister).toList()).mapEmpty();
    if (stallModes.contains("hang-stop")) {
      return Promise.promise().future(); // a stop that never completes: the supervisor must not wait for ever
    }
    return unregistered.transform(ar -> stopService());
  }
}
