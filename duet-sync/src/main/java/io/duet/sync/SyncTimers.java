package io.duet.sync;

/**
 * Time as the replication core sees it: a monotonic clock and one-shot timers. Production uses
 * {@link SystemTimers}; the deterministic simulator supplies its own, so no logic reads the system
 * clock directly.
 */
public interface SyncTimers {
  /** Monotonic nanoseconds (only differences mean anything). */
  long nanoTime();

  /**
   * Names the current boot of this machine: it changes exactly when the monotonic clock restarts
   * and the page cache is lost (a power cycle), so a site that stopped uncleanly can tell a process
   * crash (its acknowledged, un-flushed writes are still in the page cache) from a power loss (they
   * may be gone). Linux's {@code /proc/sys/kernel/random/boot_id}; empty if unknown.
   */
  default String bootId() {
    try {
      return java.nio.file.Files.readString(
              java.nio.file.Path.of("/proc/sys/kernel/random/boot_id"))
          .strip();
    } catch (java.io.IOException | RuntimeException e) {
      return "";
    }
  }

  /** Runs {@code task} once after {@code delayNanos}; the task must be quick and not block. */
  Cancellable schedule(long delayNanos, Runnable task);

  /** A scheduled task that may be called off. */
  interface Cancellable {
    void cancel();
  }
}
