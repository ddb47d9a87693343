package io.duet.scsi;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * Pending unit attention conditions of one logical unit, a bounded queue per I_T nexus (keyed by
 * the initiator port name + target port name). SPC-4 lets a device report the highest-priority
 * condition first and drop the rest when the queue overflows; Duet keeps the newest few and
 * collapses duplicates. Thread-safe.
 */
final class UnitAttentions {
  /** More than this many conditions per nexus collapse into the oldest ones kept. */
  private static final int MAX_PENDING_PER_NEXUS = 8;

  private record Condition(int asc, int ascq) {}

  private final Map<String, Deque<Condition>> pending = new HashMap<>();

  /** Nexuses conditions may be raised on, by {@link #key}. */
  private final Map<String, ItNexus> known = new HashMap<>();

  /**
   * Conditions pending on all nexuses together; read without the lock so that the per-command check
   * costs one volatile read while nothing is pending (the common case).
   */
  private volatile int pendingTotal;

  static String key(ItNexus nexus) {
    return nexus.initiatorPort() + "|" + nexus.targetPort().name();
  }

  /** Remembers a nexus so later "every nexus" conditions reach it. */
  synchronized void attach(ItNexus nexus, int asc, int ascq) {
    String k = key(nexus);
    known.put(k, nexus);
    add(k, asc, ascq);
  }

  /** Raises a condition on one nexus. */
  synchronized void raise(ItNexus nexus, int asc, int ascq) {
    String k = key(nexus);
    known.put(k, nexus);
    add(k, asc, ascq);
  }

  /**
   * Raises a condition on {@code nexus} only if it exists here: a change applied at both sites
   * names nexuses of either site, and must not invent the other site's ones.
   */
  synchronized void raiseIfKnown(ItNexus nexus, int asc, int ascq) {
    String k = key(nexus);
    if (known.containsKey(k)) {
      add(k, asc, ascq);
    }
  }

  /**
   * Raises a condition on every known nexus {@code which} accepts. The predicate runs outside the
   * lock: it may call the node (a host's proximity), which must not wait on this unit.
   */
  void raiseWhere(Predicate<ItNexus> which, int asc, int ascq) {
    List<ItNexus> candidates;
    synchronized (this) {
      candidates = List.copyOf(known.values());
    }
    List<ItNexus> chosen = candidates.stream().filter(which).toList();
    synchronized (this) {
      for (ItNexus n : chosen) {
        String k = key(n);
        if (known.containsKey(k)) {
          add(k, asc, ascq);
        }
      }
    }
  }

  /** Raises a condition on every known nexus except {@code except} (may be null). */
  synchronized void raiseAll(ItNexus except, int asc, int ascq) {
    String skip = except == null ? null : key(except);
    for (String k : known.keySet()) {
      if (!k.equals(skip)) {
        add(k, asc, ascq);
      }
    }
  }

  /** Raises a condition on every known nexus whose initiator port is {@code initiatorPort}. */
  synchronized void raiseForInitiatorPort(String initiatorPort, int asc, int ascq) {
    String prefix = initiatorPort + "|";
    for (String k : known.keySet()) {
      if (k.startsWith(prefix)) {
        add(k, asc, ascq);
      }
    }
  }

  private void add(String k, int asc, int ascq) {
    Deque<Condition> q = pending.computeIfAbsent(k, x -> new ArrayDeque<>());
    Condition c = new Condition(asc, ascq);
    if (q.contains(c) || q.size() >= MAX_PENDING_PER_NEXUS) {
      return;
    }
    q.addLast(c);
    pendingTotal++;
  }

  /** Takes the oldest pending condition of this nexus as sense bytes, if any. */
  synchronized Optional<byte[]> take(ItNexus nexus) {
    Deque<Condition> q = pending.get(key(nexus));
    if (q == null || q.isEmpty()) {
      return Optional.empty();
    }
    Condition c = q.pollFirst();
    pendingTotal--;
    return Optional.of(Sense.fixed(Sense.UNIT_ATTENTION, c.asc, c.ascq));
  }

  /** Looks at the oldest pending condition without clearing it (REQUEST SENSE reports it too). */
  synchronized boolean hasPending(ItNexus nexus) {
    Deque<Condition> q = pending.get(key(nexus));
    return q != null && !q.isEmpty();
  }

  /** Clears every condition of every nexus (e.g. the LU is being removed). */
  synchronized void clear() {
    pending.clear();
    pendingTotal = 0;
  }

  /** Whether any nexus may have a pending condition; false is exact, true needs {@link #take}. */
  boolean hasAny() {
    return pendingTotal != 0;
  }

  /** Forgets a nexus that logged out, so the set of known nexuses stays bounded. */
  synchronized void detach(ItNexus nexus) {
    String k = key(nexus);
    known.remove(k);
    Deque<Condition> q = pending.remove(k);
    if (q != null) {
      pendingTotal -= q.size();
    }
  }
}
