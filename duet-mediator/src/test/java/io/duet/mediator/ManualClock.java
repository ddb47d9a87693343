package io.duet.mediator;

import java.time.Duration;
import java.time.Instant;

/** A clock that moves only when a test says so. */
final class ManualClock implements MediatorClock {
  private long nanos = 1_000_000_000L;
  private Instant wall = Instant.parse("2026-11-23T10:00:00Z");

  @Override
  public synchronized long nanoTime() {
    return nanos;
  }

  @Override
  public synchronized Instant now() {
    return wall;
  }

  synchronized void advanceMs(long ms) {
    nanos += ms * 1_000_000L;
    wall = wall.plus(Duration.ofMillis(ms));
  }
}
