package io.duet.scsi;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What RECEIVE COPY RESULTS reports about EXTENDED COPY commands, per I_T nexus and LIST IDENTIFIER
 * (SPC-4 6.18): copies still running (so a duplicate list id is refused and COPY STATUS can show
 * progress) and results held after completion. Bounded: a nexus holds at most {@link
 * #MAX_HELD_PER_NEXUS} results (oldest dropped) and at most {@link #MAX_NEXUSES} nexuses are
 * tracked. Held results go once reported, on nexus loss and on logical unit reset. Thread-safe.
 */
final class CopyResults {
  static final int MAX_HELD_PER_NEXUS = 16;
  static final int MAX_NEXUSES = 1024;

  /** COPY MANAGER STATUS codes of COPY STATUS. */
  static final int STATUS_IN_PROGRESS = 0x00;

  static final int STATUS_DONE = 0x01;
  static final int STATUS_FAILED = 0x02;

  /** A copy in progress; the copying thread updates the counters, readers poll them. */
  static final class Running {
    final int listId;
    final boolean hold;
    private volatile int segmentsDone;
    private volatile long bytesDone;

    Running(int listId, boolean hold) {
      this.listId = listId;
      this.hold = hold;
    }

    void progress(int segments, long bytes) {
      segmentsDone = segments;
      bytesDone = bytes;
    }
  }

  /** A finished copy: its status, progress and, if it failed, the sense it ended with. */
  private record Done(int status, int segments, long bytes, byte[] sense) {}

  private final Map<String, Map<Integer, Running>> running = new HashMap<>();
  private final LinkedHashMap<String, LinkedHashMap<Integer, Done>> held =
      new LinkedHashMap<>(16, 0.75f, true);

  /**
   * Registers a copy about to start.
   *
   * @param track false for LIST ID USAGE 11b: no list id, nothing to track
   * @return the running record, or null when the list id is already running on this nexus
   */
  synchronized Running begin(ItNexus nexus, int listId, boolean track, boolean hold) {
    Running r = new Running(listId, hold);
    if (!track) {
      return r;
    }
    Map<Integer, Running> mine =
        running.computeIfAbsent(UnitAttentions.key(nexus), k -> new HashMap<>());
    if (mine.putIfAbsent(listId, r) != null) {
      return null;
    }
    return r;
  }

  /** The copy ended; {@code sense} is null on success. */
  synchronized void finish(ItNexus nexus, Running r, int segments, long bytes, byte[] sense) {
    String k = UnitAttentions.key(nexus);
    Map<Integer, Running> mine = running.get(k);
    if (mine != null && mine.get(r.listId) == r) {
      mine.remove(r.listId);
      if (mine.isEmpty()) {
        running.remove(k);
      }
    }
    if (!r.hold) {
      return;
    }
    LinkedHashMap<Integer, Done> results = held.computeIfAbsent(k, x -> new LinkedHashMap<>());
    results.remove(r.listId); // re-insert so the newest result is last
    results.put(
        r.listId, new Done(sense == null ? STATUS_DONE : STATUS_FAILED, segments, bytes, sense));
    if (results.size() > MAX_HELD_PER_NEXUS) {
      results.remove(results.keySet().iterator().next());
    }
    if (held.size() > MAX_NEXUSES) {
      held.remove(held.keySet().iterator().next());
    }
  }

  /** COPY STATUS parameter data (12 bytes), or null when nothing is known for the list id. */
  synchronized byte[] copyStatus(ItNexus nexus, int listId) {
    String k = UnitAttentions.key(nexus);
    Map<Integer, Running> mine = running.get(k);
    Running r = mine == null ? null : mine.get(listId);
    if (r != null) {
      return copyStatus(STATUS_IN_PROGRESS, r.segmentsDone, r.bytesDone);
    }
    Map<Integer, Done> results = held.get(k);
    Done d = results == null ? null : results.get(listId);
    if (d == null) {
      return null;
    }
    if (d.status == STATUS_DONE) {
      results.remove(listId); // reported; a failed copy keeps its details for SA 04h
    }
    return copyStatus(d.status, d.segments, d.bytes);
  }

  /** FAILED SEGMENT DETAILS parameter data, or null when nothing is known for the list id. */
  synchronized byte[] failedSegmentDetails(ItNexus nexus, int listId) {
    String k = UnitAttentions.key(nexus);
    Map<Integer, Running> mine = running.get(k);
    if (mine != null && mine.containsKey(listId)) {
      return new byte[4]; // still running: AVAILABLE DATA zero, nothing else
    }
    Map<Integer, Done> results = held.get(k);
    Done d = results == null ? null : results.remove(listId);
    if (d == null) {
      return null;
    }
    byte[] sense = d.sense == null ? new byte[0] : d.sense;
    ByteBuffer b = ByteBuffer.allocate(60 + sense.length);
    b.putInt(56 + sense.length);
    b.put(56, (byte) (d.sense == null ? ScsiResult.GOOD : ScsiResult.CHECK_CONDITION));
    b.putShort(58, (short) sense.length);
    b.put(60, sense);
    return b.array();
  }

  /** Forgets a nexus' held results (I_T nexus loss). Running copies finish on their own. */
  synchronized void forget(ItNexus nexus) {
    held.remove(UnitAttentions.key(nexus));
  }

  /** Logical unit reset: every held result goes. */
  synchronized void clear() {
    held.clear();
  }

  private static byte[] copyStatus(int status, int segments, long bytes) {
    // TRANSFER COUNT is 32 bits; scale by kibibytes (units 1h) once bytes would not fit.
    int units = 0;
    long count = bytes;
    while (count > 0xffffffffL) {
      count >>>= 10;
      units++;
    }
    ByteBuffer b = ByteBuffer.allocate(12);
    b.putInt(8);
    b.put((byte) status);
    b.putShort((short) Math.min(segments, 0xffff));
    b.put((byte) units);
    b.putInt((int) count);
    return b.array();
  }
}
