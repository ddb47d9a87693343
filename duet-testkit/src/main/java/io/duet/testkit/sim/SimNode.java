package io.duet.testkit.sim;

/**
 * Something that owns simulated tasks and can fail as a unit: a site's process or the mediator. A
 * crash bumps the incarnation, which silently drops every task the old incarnation still had queued
 * (its timers, disk work, deliveries, host threads); a pause holds its tasks until it ends while
 * time goes on.
 */
final class SimNode {
  final String name;
  private int incarnation;
  private boolean alive = true;
  private long pausedUntilNanos;

  SimNode(String name) {
    this.name = name;
  }

  int incarnation() {
    return incarnation;
  }

  /** The process died: everything it had queued is gone, and nothing runs until it restarts. */
  void kill() {
    incarnation++;
    alive = false;
  }

  /** A new process starts: a fresh incarnation (nothing of the dead one ever runs). */
  void revive() {
    incarnation++;
    alive = true;
  }

  /** Whether a task of {@code taskIncarnation} may run now. */
  boolean runs(int taskIncarnation) {
    return alive && taskIncarnation == incarnation;
  }

  long pausedUntilNanos() {
    return pausedUntilNanos;
  }

  void pauseUntil(long nanos) {
    pausedUntilNanos = Math.max(pausedUntilNanos, nanos);
  }

  void resume(long nowNanos) {
    pausedUntilNanos = Math.min(pausedUntilNanos, nowNanos);
  }

  @Override
  public String toString() {
    return name + "#" + incarnation;
  }
}
