package io.duet.testkit.sim;

import java.util.PriorityQueue;
import java.util.concurrent.Executor;

/**
 * The simulator's one task queue and its virtual clock: tasks run one at a time on the calling
 * thread in (virtual time, sequence) order, so a run depends on nothing but the seed. Every event
 * loop, I/O executor, timer, link delivery and host thread of the simulation is a task here.
 */
final class SimScheduler {
  /** A queued task; {@code cancelled} lets a timer be called off without searching the heap. */
  static final class Task implements io.duet.sync.SyncTimers.Cancellable {
    final long at;
    final long seq;
    final SimNode owner;
    final int incarnation;
    final Runnable run;
    boolean cancelled;

    Task(long at, long seq, SimNode owner, int incarnation, Runnable run) {
      this.at = at;
      this.seq = seq;
      this.owner = owner;
      this.incarnation = incarnation;
      this.run = run;
    }

    @Override
    public void cancel() {
      cancelled = true;
    }
  }

  private final PriorityQueue<Task> queue =
      new PriorityQueue<>(
          (x, y) -> x.at != y.at ? Long.compare(x.at, y.at) : Long.compare(x.seq, y.seq));
  private long now;
  private long seq;
  private long executed;

  long now() {
    return now;
  }

  long executed() {
    return executed;
  }

  /** Queues {@code run} at virtual time {@code at} for the current incarnation of {@code owner}. */
  Task at(long at, SimNode owner, Runnable run) {
    return at(at, owner, owner == null ? 0 : owner.incarnation(), run);
  }

  Task at(long at, SimNode owner, int incarnation, Runnable run) {
    Task t = new Task(Math.max(at, now), seq++, owner, incarnation, run);
    queue.add(t);
    return t;
  }

  Task after(long delayNanos, SimNode owner, Runnable run) {
    return at(now + Math.max(0, delayNanos), owner, run);
  }

  /**
   * An executor that queues tasks for the current incarnation of {@code owner} (only), now plus
   * {@code delay} nanoseconds.
   */
  Executor executor(SimNode owner, java.util.function.LongSupplier delay) {
    int incarnation = owner.incarnation();
    return r -> at(now + Math.max(0, delay.getAsLong()), owner, incarnation, r);
  }

  /**
   * Runs tasks due at or before {@code until}, then sets the clock to {@code until}. A paused
   * owner's tasks are put back at the end of its pause, keeping their sequence (so the order among
   * them, and a link's FIFO order, is kept).
   */
  void runUntil(long until) {
    while (!queue.isEmpty() && queue.peek().at <= until) {
      Task t = queue.poll();
      if (t.cancelled || (t.owner != null && !t.owner.runs(t.incarnation))) {
        continue;
      }
      if (t.owner != null && t.owner.pausedUntilNanos() > t.at) {
        queue.add(new Task(t.owner.pausedUntilNanos(), t.seq, t.owner, t.incarnation, t.run));
        continue;
      }
      now = t.at;
      executed++;
      t.run.run();
    }
    now = Math.max(now, until);
  }
}
