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
 * only be placed right after its own write and the search stays near-linear. A compare-and-write is
 * a write that fits only where the register holds what it expected (two that expected the same
 * value cannot both have written), or, when it miscompared, a read that fits only where the
 * register held something else.
 *
 * <p>A write that failed or never completed is indeterminate: it may take effect at any point after
 * its invocation, or never. One that no read observed is dropped (placing it can only hurt); one
 * that was observed must be placed before its readers, which the search does by itself.
 */
final class RegisterChecker {
  /** Stop a pathological search rather than hang a test run; reported as a failure. */
  static final int MAX_STATES = 2_000_000;

  /** The bound of each search that locates where a failing history first goes wrong. */
  private static final int DIAGNOSIS_STATES = 50_000;

  /**
   * What an operation requires of the register's value when it takes effect: nothing; that it
   * equals {@code expected} (a compare-and-write that wrote, or an indeterminate one); or that it
   * differs from {@code expected} (a compare-and-write that miscompared: a read that saw something
   * else, without saying what).
   */
  enum Condition {
    NONE,
    EQUALS,
    DIFFERS
  }

  /** One operation on the register; {@code completeNanos == Op.NEVER} for an indeterminate one. */
  record RegisterOp(
      int id,
      boolean write,
      long value,
      long invokeNanos,
      long completeNanos,
      Condition condition,
      long expected) {
    RegisterOp(int id, boolean write, long value, long invokeNanos, long completeNanos) {
      this(id, write, value, invokeNanos, completeNanos, Condition.NONE, 0);
    }

    /** Whether it may take effect when the register holds {@code current}. */
    boolean fits(long current) {
      return switch (condition) {
        case NONE -> write || value == current;
        case EQUALS -> current == expected;
        case DIFFERS -> current != expected;
      };
    }

    String describe() {
      String what =
          switch (condition) {
            case NONE -> (write ? "W(" : "R->(") + Long.toHexString(value) + ")";
            case EQUALS ->
                "CAW(" + Long.toHexString(expected) + "->" + Long.toHexString(value) + ")";
            case DIFFERS -> "CAW(" + Long.toHexString(expected) + ": miscompare)";
          };
      return what
          + "#"
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
      if (o.condition() != Condition.DIFFERS) {
        (o.write() ? written : read).add(o.value());
      }
      if (o.condition() == Condition.EQUALS) {
        read.add(o.expected()); // a compare-and-write that wrote saw what it expected
      }
    }
    // A miscompare observed "something else" without naming it: an indeterminate write nobody
    // read, invoked before the miscompare ended, may be what it saw. Keeping every such write in
    // the search explodes it (a run's failed writes are many), so such a miscompare is left out:
    // compare-and-writes that wrote are what G2 holds to atomicity.
    long firstUnobserved = Long.MAX_VALUE;
    for (RegisterOp o : history) {
      if (o.write() && o.completeNanos() == Op.NEVER && !read.contains(o.value())) {
        firstUnobserved = Math.min(firstUnobserved, o.invokeNanos());
      }
    }
    List<RegisterOp> ops = new ArrayList<>();
    for (RegisterOp o : history) {
      if (o.write() && o.completeNanos() == Op.NEVER && !read.contains(o.value())) {
        continue; // an unobserved indeterminate write: assume it never took effect
      }
      if (o.condition() == Condition.DIFFERS && firstUnobserved < o.completeNanos()) {
        continue;
      }
      if (!o.write()
          && o.condition() != Condition.DIFFERS
          && o.value() != initial
          && !written.contains(o.value())) {
        return Optional.of("read a value nobody wrote: " + o.describe());
      }
      ops.add(o);
    }
    Optional<String> why = search(ops, initial, MAX_STATES);
    return why.map(w -> w.endsWith("(inconclusive)") ? w : w + firstFailure(ops, initial));
  }

  /**
   * Where a history that is not linearizable first goes wrong: the shortest prefix by invocation
   * time that already fails (operations still running at its end count as indeterminate), and its
   * last operations, so a long history's report shows the place to look.
   */
  private static String firstFailure(List<RegisterOp> ops, long initial) {
    List<RegisterOp> sorted = new ArrayList<>(ops);
    sorted.sort(Comparator.comparingLong(RegisterOp::invokeNanos));
    int lo = 1;
    int hi = sorted.size();
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      // A prefix the bounded search cannot decide counts as failing: this only points the report.
      if (search(prefix(sorted, mid), initial, DIAGNOSIS_STATES).isPresent()) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    List<RegisterOp> first = prefix(sorted, lo);
    StringBuilder sb =
        new StringBuilder("\n    first fails with the operation invoked at ")
            .append(Op.ms(sorted.get(lo - 1).invokeNanos()))
            .append("; the operations before it:");
    for (RegisterOp o : first.subList(Math.max(0, first.size() - 25), first.size())) {
      sb.append("\n      ").append(o.describe());
    }
    return sb.toString();
  }

  /** The first {@code n} operations; those still running after the last invocation never end. */
  private static List<RegisterOp> prefix(List<RegisterOp> sorted, int n) {
    long end = sorted.get(n - 1).invokeNanos();
    List<RegisterOp> out = new ArrayList<>();
    for (RegisterOp o : sorted.subList(0, n)) {
      boolean running = o.completeNanos() > end;
      if (running && !o.write()) {
        continue; // a read still running may return anything later: it constrains nothing yet
      }
      out.add(
          running
              ? new RegisterOp(
                  o.id(), true, o.value(), o.invokeNanos(), Op.NEVER, o.condition(), o.expected())
              : o);
    }
    return out;
  }

  private static Optional<String> search(List<RegisterOp> ops, long initial, int maxStates) {
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
        boolean fits = o.fits(value);
        long next = o.write() ? o.value() : value;
        if (fits) {
          BitSet after = (BitSet) linearized.clone();
          after.set(entry.op);
          if (seen.add(new State(after, next))) {
            if (seen.size() > maxStates) {
              return Optional.of("search exceeded " + maxStates + " states (inconclusive)");
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
