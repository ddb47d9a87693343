package io.duet.sync;

import java.util.ArrayDeque;
import java.util.PriorityQueue;
import java.util.concurrent.Executor;

/**
 * Virtual time and one task queue for every loop, I/O executor and link of a test: tasks run on the
 * test's thread, one at a time, in a reproducible order; time moves only when the test says so. A
 * small stand-in for the deterministic simulator that will drive this code.
 */
final class ManualScheduler implements SyncTimers, Executor {
  private record Timer(long at, long order, Runnable task) {}

  private final ArrayDeque<Runnable> ready = new ArrayDeque<>();
  private final PriorityQueue<Timer> timers =
      new PriorityQueue<>(
          (x, y) -> x.at != y.at ? Long.compare(x.at, y.at) : Long.compare(x.order, y.order));
  private long now = 1_000_000_000L;
  private long order;

  @Override
  public long nanoTime() {
    return now;
  }

  @Override
  public Cancellable schedule(long delayNanos, Runnable task) {
    Timer t = new Timer(now + Math.max(0, delayNanos), order++, task);
    timers.add(t);
    return () -> timers.remove(t);
  }

  @Override
  public void execute(Runnable task) {
    ready.add(task);
  }

  /** Runs every ready task (and those they make ready) without moving time. */
  void runReady() {
    for (int i = 0; !ready.isEmpty(); i++) {
      if (i > 10_000_000) {
        throw new AssertionError("tasks keep making more tasks: livelock");
      }
      ready.poll().run();
    }
  }

  /** Moves time forward by {@code nanos}, firing timers in order and running what they cause. */
  void advance(long nanos) {
    long end = now + nanos;
    runReady();
    while (!timers.isEmpty() && timers.peek().at <= end) {
      Timer t = timers.poll();
      now = Math.max(now, t.at);
      t.task.run();
      runReady();
    }
    now = end;
  }
}
