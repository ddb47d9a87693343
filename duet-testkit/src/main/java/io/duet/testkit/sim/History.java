package io.duet.testkit.sim;

import java.util.ArrayList;
import java.util.List;

/** Every host operation of a run, in invocation order. */
final class History {
  private final List<Op> ops = new ArrayList<>();

  Op invoke(
      String site,
      int client,
      Op.Kind kind,
      long firstBlock,
      int blocks,
      long value,
      long nowNanos) {
    Op op = new Op(ops.size(), site, client, kind, firstBlock, blocks, value, nowNanos);
    ops.add(op);
    return op;
  }

  void ok(Op op, long nowNanos, long[] readValues) {
    op.outcome = Op.Outcome.OK;
    op.completeNanos = nowNanos;
    op.readValues = readValues;
  }

  /** A compare-and-write that found another value and wrote nothing. */
  void miscompared(Op op, long nowNanos) {
    op.outcome = Op.Outcome.MISCOMPARE;
    op.completeNanos = nowNanos;
  }

  /** A failed operation; a failed write stays indeterminate (completion time NEVER). */
  void failed(Op op, long nowNanos, String error) {
    op.outcome = Op.Outcome.FAILED;
    op.error = error;
    if (op.kind != Op.Kind.WRITE) {
      op.completeNanos = nowNanos;
    }
  }

  List<Op> ops() {
    return ops;
  }

  long count(Op.Kind kind, Op.Outcome outcome) {
    return ops.stream().filter(o -> o.kind == kind && o.outcome == outcome).count();
  }
}
