package io.duet.testkit.sim;

import io.duet.sync.dirty.ActivityLog;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * An activity log with the contract of the real one: an extent is durably recorded active before
 * the first write into it is issued and stays recorded while hot; after a crash every extent the
 * log holds is reported by {@link #activeAtOpen}. Like the real log it retires cold extents lazily
 * (at most {@code hotExtents} idle ones stay recorded), so a crash reports a superset of the
 * extents with writes in flight.
 */
final class SimActivityLog implements ActivityLog {
  private final long extentSize;
  private final int hotExtents;
  private final int[] inFlight;
  private final BitSet durable = new BitSet();

  /** Idle extents still recorded, oldest first. */
  private final ArrayDeque<Integer> idle = new ArrayDeque<>();

  private List<Range> atOpen = List.of();

  /** endWrite without a matching beginWrite: a bug in the caller, reported by the invariants. */
  int unbalanced;

  /** Who called the first unbalanced endWrite (a stack frame of duet-sync), for the report. */
  String firstUnbalanced;

  Trace trace;

  /** Makes the disk's written data durable (the volume's flush), run before an eviction. */
  private final Runnable barrier;

  SimActivityLog(long volumeBytes, long extentSize, int hotExtents, Runnable barrier) {
    this.barrier = barrier;
    this.extentSize = extentSize;
    this.hotExtents = hotExtents;
    this.inFlight = new int[(int) ((volumeBytes + extentSize - 1) / extentSize)];
  }

  @Override
  public long extentSizeBytes() {
    return extentSize;
  }

  @Override
  public void beginWrite(long offset, long length) {
    for (int e = first(offset); e <= last(offset, length); e++) {
      durable.set(e);
      idle.remove(e);
      inFlight[e]++;
    }
  }

  @Override
  public void endWrite(long offset, long length) {
    for (int e = first(offset); e <= last(offset, length); e++) {
      if (inFlight[e] == 0) {
        if (unbalanced++ == 0) {
          firstUnbalanced = "extent " + e + " " + caller();
          if (trace != null) {
            trace.log("log", "unbalanced endWrite(" + offset + ", " + length + ") " + caller());
          }
        }
        continue;
      }
      if (--inFlight[e] == 0) {
        idle.add(e);
      }
    }
    if (idle.size() > hotExtents) {
      // As ActivityLogFile: an extent leaves the log only once its data is durable.
      barrier.run();
      while (idle.size() > hotExtents) {
        durable.clear(idle.poll());
      }
    }
  }

  @Override
  public List<Range> activeAtOpen() {
    return atOpen;
  }

  @Override
  public void releaseActiveAtOpen() {
    for (Range r : atOpen) {
      int e = first(r.offset());
      if (inFlight[e] == 0) {
        durable.clear(e);
      }
    }
    atOpen = List.of();
  }

  @Override
  public boolean releaseIdle() {
    barrier.run();
    java.util.Set<Integer> carried = new java.util.HashSet<>();
    atOpen.forEach(r -> carried.add(first(r.offset())));
    for (int e = durable.nextSetBit(0); e >= 0; e = durable.nextSetBit(e + 1)) {
      if (inFlight[e] == 0 && !carried.contains(e)) {
        durable.clear(e);
        idle.remove(e);
      }
    }
    return durable.isEmpty();
  }

  /** As ActivityLogFile's clean close: the data barrier, then only busy extents stay recorded. */
  @Override
  public void close() {
    releaseIdle();
  }

  /** Writes in flight now (0 when quiet). */
  int inFlight() {
    int n = 0;
    for (int c : inFlight) {
      n += c;
    }
    return n;
  }

  /** The process stopped: what is recorded is what the restarted process reads back. */
  void crash() {
    List<Range> ranges = new ArrayList<>();
    for (int e = durable.nextSetBit(0); e >= 0; e = durable.nextSetBit(e + 1)) {
      ranges.add(new Range(e * extentSize, extentSize));
    }
    atOpen = List.copyOf(ranges);
    java.util.Arrays.fill(inFlight, 0);
    idle.clear();
    durable.clear();
    // The reopened log carries the crash's extents until the replicator has marked them dirty.
    for (Range r : ranges) {
      durable.set((int) (r.offset() / extentSize));
    }
  }

  private static String caller() {
    return StackWalker.getInstance()
        .walk(
            f ->
                f.filter(x -> x.getClassName().startsWith("io.duet.sync"))
                    .limit(3)
                    .map(
                        x ->
                            x.getClassName().replace("io.duet.sync.", "")
                                + "."
                                + x.getMethodName()
                                + ":"
                                + x.getLineNumber())
                    .toList())
        .toString();
  }

  private int first(long offset) {
    return (int) (offset / extentSize);
  }

  private int last(long offset, long length) {
    return (int) ((offset + Math.max(length, 1) - 1) / extentSize);
  }

  @Override
  public String toString() {
    return durable.toString();
  }
}
