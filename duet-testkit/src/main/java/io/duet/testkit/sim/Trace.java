package io.duet.testkit.sim;

import java.util.ArrayDeque;
import java.util.function.LongSupplier;

/**
 * What happened in a run, stamped with virtual time: printed in full with a verbose run, and the
 * last lines of it when a run fails.
 */
final class Trace {
  private static final int KEEP = 400;

  private final LongSupplier clock;
  private final boolean verbose;
  private final ArrayDeque<String> tail = new ArrayDeque<>();

  Trace(LongSupplier clock, boolean verbose) {
    this.clock = clock;
    this.verbose = verbose;
  }

  boolean verbose() {
    return verbose;
  }

  void log(String who, String what) {
    long ns = clock.getAsLong();
    String line = String.format("%6d.%03d %-5s %s", ns / 1_000_000, ns / 1_000 % 1000, who, what);
    if (verbose) {
      System.out.println(line);
    }
    tail.add(line);
    if (tail.size() > KEEP) {
      tail.poll();
    }
  }

  /** The last lines logged, oldest first. */
  String tail() {
    return String.join("\n", tail);
  }
}
