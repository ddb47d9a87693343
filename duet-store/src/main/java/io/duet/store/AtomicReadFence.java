package io.duet.store;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Lets plain reads stay lock-free while atomic writes exist. A reader takes a stamp, reads, and
 * validates; if an atomic in-place write was running when it started, or started or ended while it
 * read, the stamp fails and the reader reads again under the shared range lock (which excludes the
 * atomic writer's exclusive lock), so it can never return half of an atomic write.
 *
 * <p>Why it is enough: a writer raises {@code inFlight} and then {@code activity} before its first
 * byte and lowers {@code inFlight} after its last. If a read overlaps the write, either the reader
 * took its stamp after the writer's {@code activity} step (then it also sees {@code inFlight > 0}
 * and goes straight to the lock) or before it (then {@code activity} has moved by the time the read
 * ends, and validation fails).
 */
final class AtomicReadFence {
  /** A stamp that never validates: an atomic write is in flight. */
  static final long BUSY = -1;

  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicLong activity = new AtomicLong();

  /** A stamp for an optimistic read, or {@link #BUSY}. */
  long stamp() {
    long s = activity.get();
    return inFlight.get() > 0 ? BUSY : s;
  }

  /** Whether no atomic in-place write overlapped the read that began with {@code stamp}. */
  boolean validate(long stamp) {
    return stamp != BUSY && activity.get() == stamp;
  }

  void beginWrite() {
    inFlight.incrementAndGet();
    activity.incrementAndGet();
  }

  void endWrite() {
    activity.incrementAndGet();
    inFlight.decrementAndGet();
  }
}
