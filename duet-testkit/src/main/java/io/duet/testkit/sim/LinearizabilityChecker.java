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
    for (Op op : history.ops()) {
      if (op.discarded && op.kind == Op.Kind.WRITE) {
        discarded.add(op.value);
      }
    }
    for (Op op : history.ops()) {
      if (op.discarded) {
        continue;
      }
      for (int i = 0; i < op.blocks; i++) {
        long block = op.firstBlock + i;
        if (op.kind == Op.Kind.WRITE) {
          long end = op.ok() ? op.completeNanos : Op.NEVER;
          perBlock.get((int) block).add(new RegisterOp(op.id, true, op.value, op.invokeNanos, end));
        } else if (op.kind == Op.Kind.READ && op.ok()) {
          long v = op.readValues[i];
          if (v == BlockData.GARBAGE && powerLoss.tornTolerated(block, op.invokeNanos, history)) {
            continue;
          }
          if (v != 0 && (powerLoss.excused(v) || discarded.contains(v))) {
            continue; // a write no longer counted (excused in a power loss, or given up)
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
