package io.duet.testkit;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * One host writing to one site: 4 KiB writes with unique {@link TaggedSlot} contents to random
 * slots of its own range, one at a time, through a {@link RawInitiator} session it re-opens after a
 * lost connection. Every attempt is recorded with its outcome, so a check afterwards knows which
 * value each slot must hold.
 */
final class LoadWriter implements AutoCloseable {
  /** How a write ended. Only {@link #ACKED} is a promise; the others may or may not have landed. */
  enum Outcome {
    ACKED,
    /** NOT READY, LOGICAL UNIT NOT ACCESSIBLE, TARGET PORT IN UNAVAILABLE STATE (02/04/0C). */
    UNAVAILABLE,
    /** Any other error, a lost connection or a timeout: indeterminate. */
    FAILED
  }

  /** One write: its slot, unique sequence number, when it was sent and answered, its outcome. */
  record Attempt(long slot, long seq, long startNanos, long endNanos, Outcome outcome) {}

  private static final int UNIT_ATTENTION_RETRIES = 8;
  private static final long PACE_AFTER_ERROR_MS = 5;
  private static final long PACE_AFTER_LOGIN_FAILURE_MS = 50;

  final int id;
  private final InetSocketAddress portal;
  private final String target;
  private final String initiator;
  private final long firstSlot;
  private final int slots;
  private final Random random;
  private final List<Attempt> attempts = new CopyOnWriteArrayList<>();
  private volatile boolean stopping;
  private Thread thread;
  private RawInitiator session;
  private long seq;

  /**
   * @param firstSlot the first 4 KiB slot of this writer's range (slot n is LBA 8n)
   * @param slots how many slots the range has
   */
  LoadWriter(int id, InetSocketAddress portal, String target, long firstSlot, int slots) {
    this.id = id;
    this.portal = portal;
    this.target = target;
    this.initiator = "iqn.2026-11.io.duet.test:writer-" + id;
    this.firstSlot = firstSlot;
    this.slots = slots;
    this.random = new Random(id);
  }

  LoadWriter start() {
    thread = Thread.ofPlatform().name("writer-" + id).daemon().start(this::run);
    return this;
  }

  long firstSlot() {
    return firstSlot;
  }

  int slots() {
    return slots;
  }

  List<Attempt> attempts() {
    return List.copyOf(attempts);
  }

  long count(Outcome outcome) {
    return attempts.stream().filter(a -> a.outcome == outcome).count();
  }

  /** Attempts whose time in flight overlaps [fromNanos, toNanos]. */
  List<Attempt> during(long fromNanos, long toNanos) {
    List<Attempt> in = new ArrayList<>();
    for (Attempt a : attempts) {
      if (a.endNanos >= fromNanos && a.startNanos <= toNanos) {
        in.add(a);
      }
    }
    return in;
  }

  /** Waits until at least {@code n} more writes than now have been acknowledged. */
  void awaitMoreAcks(long n, long timeoutSeconds) throws InterruptedException {
    long target = count(Outcome.ACKED) + n;
    TwoSites.await(
        "writer " + id + " to have " + target + " acknowledged writes",
        java.time.Duration.ofSeconds(timeoutSeconds),
        () -> count(Outcome.ACKED) >= target);
  }

  private void run() {
    while (!stopping) {
      if (session == null && !login()) {
        pause(PACE_AFTER_LOGIN_FAILURE_MS);
        continue;
      }
      long slot = firstSlot + random.nextInt(slots);
      long s = ++seq;
      long start = System.nanoTime();
      Outcome outcome = write(slot, s);
      attempts.add(new Attempt(slot, s, start, System.nanoTime(), outcome));
      if (outcome != Outcome.ACKED) {
        pause(PACE_AFTER_ERROR_MS);
      }
    }
    closeSession();
  }

  private Outcome write(long slot, long s) {
    byte[] data = TaggedSlot.encode(id, s, slot);
    try {
      RawInitiator.Response r = null;
      for (int i = 0; i < UNIT_ATTENTION_RETRIES; i++) {
        r =
            session.command(
                0, Cdbs.write10(slot * TaggedSlot.BLOCKS, TaggedSlot.BLOCKS, false), data, 0);
        // A unit attention (ALUA change, reset) means the write was not executed: send it again.
        if (!(r.status() == 2 && r.senseKey() == 6)) {
          break;
        }
      }
      if (r.status() == 0) {
        return Outcome.ACKED;
      }
      if (r.status() == 2 && r.senseKey() == 2 && r.asc() == 0x04 && r.ascq() == 0x0c) {
        return Outcome.UNAVAILABLE;
      }
      return Outcome.FAILED;
    } catch (IOException e) {
      closeSession();
      return Outcome.FAILED;
    }
  }

  private boolean login() {
    try {
      session = RawInitiator.login(portal, initiator, target, 0x400000200000L + id);
      return true;
    } catch (IOException e) {
      session = null;
      return false;
    }
  }

  private void closeSession() {
    if (session != null) {
      try {
        session.close();
      } catch (IOException e) {
        // the connection is being dropped either way
      }
      session = null;
    }
  }

  private void pause(long ms) {
    // Load pacing, not waiting for a condition: keeps a refused writer from spinning.
    try {
      TimeUnit.MILLISECONDS.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stopping = true;
    }
  }

  /** Stops after the write in flight and waits for it. */
  @Override
  public void close() {
    stopping = true;
    if (thread != null) {
      try {
        thread.join(TimeUnit.SECONDS.toMillis(60));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt(); // the writer stops on its own; the caller unwinds
      }
    }
  }
}
