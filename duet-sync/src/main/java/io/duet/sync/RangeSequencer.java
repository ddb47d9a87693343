package io.duet.sync;

import java.util.ArrayList;
import java.util.List;

/**
 * Orders operations on byte ranges of one volume, FIFO among those that overlap: an operation is
 * admitted once no earlier operation (admitted or still waiting) overlaps it in conflict. Shared
 * entries (reads, region reads for resync and verify) do not conflict with each other; exclusive
 * ones (writes, compare-and-write) conflict with everything they overlap.
 *
 * <p>This is what makes overlapping writes carry the leader's sequence order at both sites, and
 * what makes a read wait for a write that is in flight. Confined to the replicator's event loop
 * (not thread-safe); callbacks run on it synchronously.
 */
final class RangeSequencer {
  /** One queued or admitted operation. */
  static final class Entry {
    final long offset;
    final long end;
    final boolean shared;
    private final Runnable onAdmit;
    private boolean admitted;
    private boolean released;

    private Entry(long offset, long length, boolean shared, Runnable onAdmit) {
      this.offset = offset;
      // A zero-length range still orders against its start block.
      this.end = offset + Math.max(length, 1);
      this.shared = shared;
      this.onAdmit = onAdmit;
    }

    boolean admitted() {
      return admitted;
    }

    private boolean conflicts(Entry other) {
      return offset < other.end && other.offset < end && !(shared && other.shared);
    }
  }

  // Arrival order. Bounded in practice by the hosts' queue depth plus the peer's in-flight writes.
  private final List<Entry> entries = new ArrayList<>();

  /** Queues an operation; {@code onAdmit} runs (possibly right away) once it may proceed. */
  Entry enqueue(long offset, long length, boolean shared, Runnable onAdmit) {
    Entry e = new Entry(offset, length, shared, onAdmit);
    entries.add(e);
    if (mayAdmit(entries.size() - 1)) {
      e.admitted = true;
      e.onAdmit.run();
    }
    return e;
  }

  /** Ends an admitted (or abandons a waiting) operation and admits those it held back. */
  void release(Entry e) {
    if (e.released) {
      return;
    }
    e.released = true;
    entries.remove(e);
    // Admissions may release further entries re-entrantly; restart the scan after each one.
    boolean progress = true;
    while (progress) {
      progress = false;
      for (int i = 0; i < entries.size(); i++) {
        Entry w = entries.get(i);
        if (!w.admitted && mayAdmit(i)) {
          w.admitted = true;
          w.onAdmit.run();
          progress = true;
          break;
        }
      }
    }
  }

  int size() {
    return entries.size();
  }

  /** Every entry, admitted or waiting, in arrival order (a copy). */
  List<Entry> snapshot() {
    return List.copyOf(entries);
  }

  private boolean mayAdmit(int index) {
    Entry e = entries.get(index);
    for (int i = 0; i < index; i++) {
      if (entries.get(i).conflicts(e)) {
        return false;
      }
    }
    return true;
  }
}
