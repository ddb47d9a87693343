package io.duet.mediator;

import java.time.Instant;

/**
 * The mediator's time: a monotonic counter for leases (a wall-clock step must never shorten or
 * stretch a lease) and the wall clock for what is shown and stored for people to read.
 */
interface MediatorClock {
  /** Monotonic nanoseconds, comparable only within one process. */
  long nanoTime();

  /** Wall-clock time, for heartbeat timestamps in status and on disk. */
  Instant now();

  /** The process clocks. */
  MediatorClock SYSTEM =
      new MediatorClock() {
        @Override
        public long nanoTime() {
          return System.nanoTime();
        }

        @Override
        public Instant now() {
          return Instant.now();
        }
      };
}
