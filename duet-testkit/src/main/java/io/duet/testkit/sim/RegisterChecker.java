package io.duet.testkit.sim;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Linearizability of one read/write register (one block), by the Wing-Gong search with Lowe's
 * memoization of (linearized set, value) states. Each write carries a unique value, so a read can
 * only be placed right after its own write and the search stays near-linear.
 *
 * <p>A write that failed or never completed is indeterminate: it may take effect at any point after
 * its invocation, or never. One that no read observed is dropped (placing it can only hurt); one
 * that was observed must be placed before its readers, which the search does by itself.
 */
final class RegisterChecker {
  /** Stop a pathological search rather than hang a test run; reported as a failure. */
  static final int MAX_STATES = 2_000_000;

  /** One operation on the register; {@code completeNanos == Op.NEVER} for an indeterminate one. */
  record RegisterOp(int id, boolean write, long value, long invokeNanos, long completeNanos) {
    String describe() {
      return (write ? "W(" : "R->(")
          + Long.toHexString(value)
          + ")#"
          + id
          + " ["
          + Op.ms(invokeNanos)
          + " .. "
          + (completeNanos == Op.NEVER ? "never" : Op.ms(completeNanos))
          + "]";
    }
  }

  private static final class Entry {
    final int op;
    final boolean call;
    final long time;
    Entry prev;
    Entry next;
    Entry match; // a call's return, or null when it never returns

    Entry(int op, boolean call, long time) {
      this.op = op;
      this.call = call;
      this.time = time;
    }

    void lift() {
      prev.next = next;
      if (next != null) {
        next.prev = prev;
      }
      if (match != null) {
        match.prev.next = match.next;
        if (match.next != null) {
          match.next.prev = match.prev;
        }
      }
    }

    void unlift() {
      if (match != null) {
        match.prev.next = match;
        if (match.next != null) {
          match.next.prev = match;
        }
      }
      prev.next = this;
      if (next != null) {
        next.prev = this;
      }
    }
  }

  private record State(BitSet linearized, long value) {}

  private RegisterChecker() {}

  /** Empty when the history is linearizable from {@code initial}; otherwise why not. */
  static Optional<String> check(List<RegisterOp> history, long initial) {
    Set<Long> written = new HashSet<>();
    Set<Long> read = new HashSet<>();
    for (RegisterOp o : history) {
      (o.write() ? written : read).add(o.value());
    }
    List<RegisterOp> ops = new ArrayList<>();
    for (RegisterOp o : history) {
      if (o.write() && o.completeNanos() == Op.NEVER && !read.contains(o.value())) {
        continue; // an unobserved indeterminate write: assume it never took effect
      }
      if (!o.write() && o.value() != initial && !written.contains(o.value())) {
        return Optional.of("read a value nobody wrote: " + o.describe());
      }
      ops.add(o);
    }
    return search(ops, initial);
  }

  private static Optional<String> search(List<RegisterOp> ops, long initial) {
    List<Entry> entries = new ArrayList<>();
    Entry[] calls = new Entry[ops.size()];
    int determinate = 0;
    for (int i = 0; i < ops.size(); i++) {
      RegisterOp o = ops.get(i);
      calls[i] = new Entry(i, true, o.invokeNanos());
      entries.add(calls[i]);
      if (o.completeNanos() != Op.NEVER) {
        calls[i].match = new Entry(i, false, o.completeNanos());
        entries.add(calls[i].match);
        determinate++;
      }
    }
    // Calls before returns at the same instant: operations that touch in time count as
    // concurrent, the lenient reading (a checker must never reject a correct history).
    entries.sort(Comparator.comparingLong((Entry e) -> e.time).thenComparing(e -> !e.call));
    Entry head = new Entry(-1, true, Long.MIN_VALUE);
    Entry last = head;
    for (Entry e : entries) {
      last.next = e;
      e.prev = last;
      last = e;
    }
    BitSet linearized = new BitSet(ops.size());
    Set<State> seen = new HashSet<>();
    List<Entry> stack = new ArrayList<>();
    List<Long> values = new ArrayList<>();
    long value = initial;
    int done = 0;
    int bestDepth = 0;
    Entry entry = head.next;
    while (done < determinate) {
      if (entry == null) {
        // Only indeterminate calls are left to try at this level, and none fits: backtrack.
        entry = backtrackTarget(stack);
        if (entry == null) {
          return Optional.of(failure(ops, bestDepth, stack));
        }
        value = values.removeLast();
        linearized.clear(entry.op);
        done -= entry.match != null ? 1 : 0;
        entry.unlift();
        entry = entry.next;
        continue;
      }
      if (entry.call) {
        RegisterOp o = ops.get(entry.op);
        boolean fits = o.write() || o.value() == value;
        long next = o.write() ? o.value() : value;
        if (fits) {
          BitSet after = (BitSet) linearized.clone();
          after.set(entry.op);
          if (seen.add(new State(after, next))) {
            if (seen.size() > MAX_STATES) {
              return Optional.of("search exceeded " + MAX_STATES + " states (inconclusive)");
            }
            stack.add(entry);
            values.add(value);
            value = next;
            linearized.set(entry.op);
            done += entry.match != null ? 1 : 0;
            bestDepth = Math.max(bestDepth, stack.size());
            entry.lift();
            entry = head.next;
            continue;
          }
        }
        entry = entry.next;
      } else {
        // A return whose operation is not placed yet: this prefix cannot be extended.
        entry = backtrackTarget(stack);
        if (entry == null) {
          return Optional.of(failure(ops, bestDepth, stack));
        }
        value = values.removeLast();
        linearized.clear(entry.op);
        done -= entry.match != null ? 1 : 0;
        entry.unlift();
        entry = entry.next;
      }
    }
    return Optional.empty();
  }

  private static Entry backtrackTarget(List<Entry> stack) {
    return stack.isEmpty() ? null : stack.removeLast();
  }

  private static String failure(List<RegisterOp> ops, int bestDepth, List<Entry> stack) {
    StringBuilder sb =
        new StringBuilder("not linearizable (longest linearizable prefix: ")
            .append(bestDepth)
            .append(" of ")
            .append(ops.size())
            .append(" operations):");
    List<RegisterOp> sorted = new ArrayList<>(ops);
    sorted.sort(Comparator.comparingLong(RegisterOp::invokeNanos));
    for (int i = 0; i < sorted.size(); i++) {
      if (i == 60 && sorted.size() > 80) {
        sb.append("\n    ... ").append(sorted.size() - 80).append(" more ...");
        i = sorted.size() - 20;
      }
      sb.append("\n    ").append(sorted.get(i).describe());
    }
    return sb.toString();
  }
}
