package io.duet.testkit.sim;

import io.duet.testkit.sim.RegisterChecker.RegisterOp;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * G2 for a whole run: each block is a register (the volume is linearizable iff every block is,
 * since operations are atomic per block only), checked with {@link RegisterChecker} against the
 * initial all-zero content.
 */
final class LinearizabilityChecker {
  private LinearizabilityChecker() {}

  /** Every violation found, one message per block (empty when the history is linearizable). */
  static List<String> check(History history, long blocks) {
    return check(history, blocks, new PowerLossLedger(Map.of()));
  }

  /**
   * As {@link #check(History, long)}, leaving out what {@code powerLoss} excused or a forced
   * failover gave up: reads of those writes' values, and garbage reads of blocks a power loss tore
   * while their value was excused.
   */
  static List<String> check(History history, long blocks, PowerLossLedger powerLoss) {
    List<List<RegisterOp>> perBlock = new ArrayList<>();
    for (long b = 0; b < blocks; b++) {
      perBlock.add(new ArrayList<>());
    }
    List<String> violations = new ArrayList<>();
    java.util.Set<Long> discarded = new java.util.HashSet<>();
    // Block -> the first invocation of a write no longer counted there: a miscompare after it may
    // have seen that write's value, which the checker no longer places.
    Map<Long, Long> firstUncounted = new java.util.HashMap<>();
    // The same for UNMAP and WRITE ZEROES: their zeros are the initial content's, so a read of 0
    // after one that no longer counts may have seen it, and is left out like a read of its value.
    Map<Long, Long> firstUncountedZeroes = new java.util.HashMap<>();
    for (Op op : history.ops()) {
      if (op.kind != Op.Kind.WRITE) {
        continue;
      }
      if (op.discarded) {
        discarded.add(op.value);
      }
      if (op.discarded || powerLoss.excused(op.value)) {
        for (int i = 0; i < op.blocks; i++) {
          firstUncounted.merge(op.firstBlock + i, op.invokeNanos, Math::min);
          if (op.zeroes) {
            firstUncountedZeroes.merge(op.firstBlock + i, op.invokeNanos, Math::min);
          }
        }
      }
    }
    for (Op op : history.ops()) {
      if (op.discarded) {
        continue;
      }
      // A compare-and-write whose expected value is no longer counted compared against a write the
      // checker no longer places: what it wrote still counts, what it compared does not.
      boolean comparedGone =
          op.compare
              && (op.expected != 0
                  ? powerLoss.excused(op.expected) || discarded.contains(op.expected)
                  : firstUncountedZeroes.getOrDefault(op.firstBlock, Long.MAX_VALUE)
                      < op.completeNanos);
      if (op.outcome == Op.Outcome.MISCOMPARE
          && (comparedGone
              || firstUncounted.getOrDefault(op.firstBlock, Long.MAX_VALUE) < op.completeNanos)) {
        continue;
      }
      for (int i = 0; i < op.blocks; i++) {
        long block = op.firstBlock + i;
        if (op.kind == Op.Kind.WRITE && op.outcome == Op.Outcome.MISCOMPARE) {
          perBlock
              .get((int) block)
              .add(
                  new RegisterOp(
                      op.id,
                      false,
                      0,
                      op.invokeNanos,
                      op.completeNanos,
                      RegisterChecker.Condition.DIFFERS,
                      op.expected));
        } else if (op.kind == Op.Kind.WRITE) {
          long end = op.ok() ? op.completeNanos : Op.NEVER;
          perBlock
              .get((int) block)
              .add(
                  new RegisterOp(
                      op.id,
                      true,
                      op.registerValue(),
                      op.invokeNanos,
                      end,
                      op.compare && !comparedGone
                          ? RegisterChecker.Condition.EQUALS
                          : RegisterChecker.Condition.NONE,
                      op.expected));
        } else if (op.kind == Op.Kind.READ && op.ok()) {
          long v = op.readValues[i];
          if (v == BlockData.GARBAGE && powerLoss.tornTolerated(block, op.invokeNanos, history)) {
            continue;
          }
          if (v != 0 && (powerLoss.excused(v) || discarded.contains(v))) {
            continue; // a write no longer counted (excused in a power loss, or given up)
          }
          if (v == 0
              && firstUncountedZeroes.getOrDefault(block, Long.MAX_VALUE) < op.completeNanos) {
            continue;
          }
          if (v == BlockData.GARBAGE) {
            violations.add("block " + block + ": read a torn or corrupt block: " + op);
            continue;
          }
          perBlock
              .get((int) block)
              .add(new RegisterOp(op.id, false, v, op.invokeNanos, op.completeNanos));
        }
      }
    }
    for (int b = 0; b < perBlock.size(); b++) {
      Optional<String> why = RegisterChecker.check(perBlock.get(b), 0);
      if (why.isPresent()) {
        violations.add("block " + b + ": " + why.get());
      }
    }
    return violations;
  }
}
