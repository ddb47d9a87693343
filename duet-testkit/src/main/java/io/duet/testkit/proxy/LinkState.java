package io.duet.testkit.proxy;

import java.util.concurrent.atomic.LongAdder;
import java.util.random.RandomGenerator;

/**
 * The faults configured for one direction of the proxy, read by every connection's pump in that
 * direction, plus that direction's counters. Settings are volatile so a pump sees a change on its
 * next decision; the proxy also wakes waiting pumps so a change is felt immediately.
 */
final class LinkState {
  final Direction direction;
  final TokenBucket bucket;
  final LongAdder forwardedBytes = new LongAdder();
  final LongAdder droppedBytes = new LongAdder();

  private final RandomGenerator random;
  private volatile long latencyNanos;
  private volatile long jitterNanos;
  private volatile boolean blackholed;

  LinkState(Direction direction, RandomGenerator random, long nowNanos) {
    this.direction = direction;
    this.random = random;
    this.bucket = new TokenBucket(nowNanos);
  }

  void latency(long latencyNanos, long jitterNanos) {
    if (latencyNanos < 0 || jitterNanos < 0) {
      throw new IllegalArgumentException("negative latency or jitter");
    }
    this.latencyNanos = latencyNanos;
    this.jitterNanos = jitterNanos;
  }

  long latencyNanos() {
    return latencyNanos;
  }

  long jitterNanos() {
    return jitterNanos;
  }

  /**
   * Draws the jitter for one chunk, uniform in [-jitter, +jitter] like netem's. Drawn once when the
   * chunk arrives, so a later change of the jitter setting does not reshuffle queued chunks.
   */
  long drawJitterNanos() {
    long jitter = jitterNanos;
    if (jitter == 0) {
      return 0;
    }
    // The shared generator is only touched here; synchronize so a seed gives one sequence even
    // when RandomGenerator implementations are not thread-safe.
    synchronized (random) {
      return random.nextLong(-jitter, jitter + 1);
    }
  }

  void blackholed(boolean on) {
    this.blackholed = on;
  }

  boolean blackholed() {
    return blackholed;
  }
}
