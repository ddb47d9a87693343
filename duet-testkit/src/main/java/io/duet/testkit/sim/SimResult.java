package io.duet.testkit.sim;

import java.util.List;
import java.util.Map;

/**
 * The outcome of one simulated run: the seed, every invariant violation (none when it passed), what
 * ran, and the end of the trace for diagnosis.
 *
 * @param seed the seed that reproduces the run
 * @param violations guarantees broken, each with its evidence
 * @param summary faults, operations and times, one line
 * @param traceTail the last events before the end of the run
 * @param tally what the run did, counted by kind: {@code fault FAULT} for each fault injected,
 *     {@code op KIND OUTCOME} for each host operation (a soak adds them up)
 */
public record SimResult(
    long seed, List<String> violations, String summary, String traceTail, Map<String, Long> tally) {
  public SimResult {
    violations = List.copyOf(violations);
    tally = Map.copyOf(tally);
  }

  public boolean passed() {
    return violations.isEmpty();
  }

  /** A report for a failed run: what broke, how to reproduce it, and the trace before it. */
  public String report() {
    StringBuilder sb = new StringBuilder();
    sb.append("seed ")
        .append(seed)
        .append(passed() ? " passed" : " FAILED")
        .append(": ")
        .append(summary)
        .append('\n');
    for (String v : violations) {
      sb.append("  ").append(v).append('\n');
    }
    if (!passed()) {
      sb.append("trace tail:\n").append(traceTail).append('\n');
      sb.append("reproduce with -Dduet.seed=").append(seed).append('\n');
    }
    return sb.toString();
  }
}
