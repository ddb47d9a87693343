package io.duet.testkit.sim;

import io.duet.sync.SyncTimers;

/**
 * One site's clock and timers: virtual time read through a rate skew (the site's oscillator runs
 * {@code rate} times as fast as true time), so leases measured at different sites disagree the way
 * the drift margin must cover. Timers belong to the site's current incarnation.
 */
final class SimTimers implements SyncTimers {
  private final SimScheduler sched;
  private final SimNode node;
  private final double rate;
  private final long offsetNanos;
  private final int incarnation;
  private final String bootId;

  SimTimers(SimScheduler sched, SimNode node, double rate, long offsetNanos, String bootId) {
    this.bootId = bootId;
    this.sched = sched;
    this.node = node;
    this.rate = rate;
    this.offsetNanos = offsetNanos;
    this.incarnation = node.incarnation();
  }

  @Override
  public long nanoTime() {
    return offsetNanos + (long) (sched.now() * rate);
  }

  @Override
  public Cancellable schedule(long delayNanos, Runnable task) {
    long trueDelay = (long) Math.ceil(Math.max(0, delayNanos) / rate);
    return sched.at(sched.now() + trueDelay, node, incarnation, task);
  }

  @Override
  public String bootId() {
    return bootId;
  }
}
