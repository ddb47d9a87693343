package io.duet.sync;

import java.io.InterruptedIOException;
import java.util.concurrent.Semaphore;

/**
 * Bounds the host write data one group holds in flight (copied out of the hosts' buffers, in
 * frames, waiting for the peer), so many large writes at once wait for room instead of exhausting
 * the heap. Counted in KiB; a request larger than the whole budget takes all of it. Fair, so a
 * large write is not starved by small ones. Thread-safe; acquired on host threads, never on the
 * event loop.
 */
final class DataBudget {
  /** The default: 128 MiB of write data in flight per consistency group. */
  static final long DEFAULT_BYTES = 128L << 20;

  private final int totalKib;
  private final Semaphore kib;

  DataBudget(long bytes) {
    this.totalKib = (int) Math.max(1, Math.min(Integer.MAX_VALUE, bytes >> 10));
    this.kib = new Semaphore(totalKib, true);
  }

  private int permits(long bytes) {
    return (int) Math.min(totalKib, (bytes + 1023) >> 10);
  }

  /** Waits until {@code bytes} of room are free and takes them. */
  void acquire(long bytes) throws InterruptedIOException {
    int n = permits(bytes);
    if (n == 0) {
      return;
    }
    try {
      kib.acquire(n);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted waiting for room for write data");
    }
  }

  /** Gives back what {@link #acquire} took for the same {@code bytes}. */
  void release(long bytes) {
    int n = permits(bytes);
    if (n > 0) {
      kib.release(n);
    }
  }

  /** Bytes free now (tests, metrics). */
  long availableBytes() {
    return (long) kib.availablePermits() << 10;
  }
}
