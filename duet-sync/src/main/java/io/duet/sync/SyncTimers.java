package io.duet.sync;

/**
 * Time as the replication core sees it: a monotonic clock and one-shot timers. Production uses
 * {@link SystemTimers}; the deterministic simulator supplies its own, so no logic reads the system
 * clock directly.
 */
public interface SyncTimers {
  /** Monotonic nanoseconds (only differences mean anything). */
  long nanoTime();

  /** Runs {@code task} once after {@code delayNanos}; the task must be quick and not block. */
  Cancellable schedule(long delayNanos, Runnable task);

  /** A scheduled task that may be called off. */
  interface Cancellable {
    void cancel();
  }
}
