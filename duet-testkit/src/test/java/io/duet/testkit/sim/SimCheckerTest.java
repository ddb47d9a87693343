package io.duet.testkit.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.duet.testkit.sim.RegisterChecker.RegisterOp;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The linearizability checker is itself tested (testing.md section 2): it must reject every
 * known-bad history of the corpus below and accept the known-good ones, including histories with
 * indeterminate writes and large generated ones.
 */
class SimCheckerTest {
  private static final long NEVER = Op.NEVER;
  private int ids;

  private RegisterOp w(long value, long invoke, long complete) {
    return new RegisterOp(ids++, true, value, invoke, complete);
  }

  private RegisterOp r(long value, long invoke, long complete) {
    return new RegisterOp(ids++, false, value, invoke, complete);
  }

  /** A compare-and-write expecting {@code expected} that wrote {@code value}. */
  private RegisterOp caw(long expected, long value, long invoke, long complete) {
    return new RegisterOp(
        ids++, true, value, invoke, complete, RegisterChecker.Condition.EQUALS, expected);
  }

  /** A compare-and-write expecting {@code expected} that miscompared. */
  private RegisterOp miscompare(long expected, long invoke, long complete) {
    return new RegisterOp(
        ids++, false, 0, invoke, complete, RegisterChecker.Condition.DIFFERS, expected);
  }

  private static Optional<String> check(RegisterOp... ops) {
    return RegisterChecker.check(List.of(ops), 0);
  }

  // ---------------------------------------------------------------- known bad

  @Test
  void staleReadAfterANewerCompletedWrite() {
    assertThat(check(w(1, 0, 10), w(2, 20, 30), r(1, 40, 50))).isPresent();
  }

  @Test
  void lostAcknowledgedWrite() {
    assertThat(check(w(1, 0, 10), r(0, 100, 110))).isPresent();
  }

  @Test
  void readOfAValueNeverWritten() {
    assertThat(check(w(1, 0, 10), r(7, 20, 30))).get().asString().contains("nobody wrote");
  }

  @Test
  void sequentialReadsGoingBackInTime() {
    // W2 is concurrent with both reads, but once a read saw 2, a later read may not see 1.
    assertThat(check(w(1, 0, 10), w(2, 15, 100), r(2, 20, 30), r(1, 40, 50))).isPresent();
  }

  @Test
  void twoCompareAndWritesThatExpectedTheSameValueBothWrote() {
    // Concurrent, at two sites: only one of them can have found 1 there.
    assertThat(check(w(1, 0, 10), caw(1, 2, 20, 40), caw(1, 3, 25, 45), r(3, 50, 60))).isPresent();
  }

  @Test
  void aCompareAndWriteThatMiscomparedAgainstWhatTheBlockHeld() {
    assertThat(check(w(1, 0, 10), miscompare(1, 20, 30))).isPresent();
  }

  @Test
  void aCompareAndWriteThatWroteOverAValueItDidNotExpect() {
    assertThat(check(w(1, 0, 10), w(2, 20, 30), caw(1, 3, 40, 50))).isPresent();
  }

  @Test
  void readOfAWriteInvokedAfterTheReadCompleted() {
    assertThat(check(r(1, 0, 10), w(1, 20, 30))).isPresent();
  }

  @Test
  void readOfAnIndeterminateWriteInvokedAfterTheReadCompleted() {
    assertThat(check(r(1, 0, 10), w(1, 20, NEVER))).isPresent();
  }

  @Test
  void indeterminateWriteSeenThenVanishing() {
    assertThat(check(w(1, 0, 10), w(2, 20, NEVER), r(2, 30, 40), r(1, 50, 60))).isPresent();
  }

  @Test
  void readsAtTwoSitesDisagreeOnTheOrderOfConcurrentWrites() {
    assertThat(check(w(1, 0, 100), w(2, 0, 100), r(1, 10, 20), r(2, 30, 40), r(1, 50, 60)))
        .isPresent();
  }

  @Test
  void initialValueAfterACompletedWrite() {
    assertThat(check(w(1, 0, 10), r(1, 20, 30), r(0, 40, 50))).isPresent();
  }

  @Test
  void overwrittenValueReadAfterBothWritesCompleted() {
    assertThat(check(w(1, 0, 10), w(2, 5, 15), w(3, 20, 30), r(2, 40, 50))).isPresent();
  }

  @Test
  void tornBlockIsRejectedByTheHistoryChecker() {
    History h = new History();
    Op write = h.invoke("A", 1, Op.Kind.WRITE, 0, 2, 5, 0);
    h.ok(write, 10, null);
    Op read = h.invoke("B", 2, Op.Kind.READ, 0, 2, 0, 20);
    h.ok(read, 30, new long[] {5, BlockData.GARBAGE});
    assertThat(LinearizabilityChecker.check(h, 4)).singleElement().asString().contains("torn");
  }

  @Test
  void multiBlockHistoryChecksEachBlock() {
    History h = new History();
    Op w1 = h.invoke("A", 1, Op.Kind.WRITE, 0, 2, 1, 0);
    h.ok(w1, 10, null);
    Op w2 = h.invoke("B", 2, Op.Kind.WRITE, 1, 1, 2, 20);
    h.ok(w2, 30, null);
    Op read = h.invoke("A", 1, Op.Kind.READ, 0, 2, 0, 40);
    h.ok(read, 50, new long[] {1, 1}); // block 1 lost the later write 2
    assertThat(LinearizabilityChecker.check(h, 2)).singleElement().asString().startsWith("block 1");
  }

  @Test
  void blockDataRecognizesTornAndMisplacedBlocks() {
    byte[] one = BlockData.encode(7, 3, 1);
    assertThat(BlockData.decode(one, 0, 3)).isEqualTo(7);
    assertThat(BlockData.decode(one, 0, 4)).isEqualTo(BlockData.GARBAGE);
    byte[] torn = BlockData.encode(8, 3, 1);
    System.arraycopy(one, 0, torn, 0, SimDisk.SECTOR);
    assertThat(BlockData.decode(torn, 0, 3)).isEqualTo(BlockData.GARBAGE);
    assertThat(BlockData.decode(new byte[SimDisk.BLOCK], 0, 3)).isZero();
  }

  @Test
  void flushedWriteLostInAPowerLossIsRejected() {
    PowerLossRun run = new PowerLossRun();
    Op write = run.write(0, 10, false);
    Op flush = run.history.invoke("A", 1, Op.Kind.FLUSH, 0, 0, 0, 20);
    run.history.ok(flush, 30, null); // acknowledged, yet A's copy stayed in its page cache
    run.powerLossOfA(40);
    assertThat(run.invariants.powerLoss.excusedCount()).isEqualTo(1);
    run.invariants.checkFlushesKept(run.history);
    assertThat(run.invariants.violations())
        .singleElement()
        .asString()
        .contains("although flush")
        .contains(Long.toHexString(write.value));
  }

  @Test
  void fuaWriteLostInAPowerLossIsRejected() {
    PowerLossRun run = new PowerLossRun();
    run.write(0, 10, true);
    run.invariants.powerLoss.excuse(run.history.ops().getFirst(), 40);
    run.invariants.checkFlushesKept(run.history);
    assertThat(run.invariants.violations()).singleElement().asString().contains("FUA write");
  }

  @Test
  void writeLostByOneSiteWhileThePeerHeldItIsRejected() {
    PowerLossRun run = new PowerLossRun();
    Op write = run.write(0, 10, false);
    run.b.write(0, ByteBuffer.wrap(BlockData.encode(write.value, 0, 1)), false);
    run.powerLossOfA(40);
    assertThat(run.invariants.powerLoss.excusedCount()).isZero();
    Op read = run.history.invoke("A", 1, Op.Kind.READ, 0, 1, 0, 5_000);
    run.history.ok(read, 5_010, new long[] {run.a.value(0)});
    run.invariants.checkNothingLost(run.history, run.a, "A");
    assertThat(run.invariants.violations()).isNotEmpty();
    assertThat(LinearizabilityChecker.check(run.history, 1, run.invariants.powerLoss)).isNotEmpty();
  }

  // ---------------------------------------------------------------- known good

  @Test
  void compareAndWritesAtTwoSitesOneWinsTheOtherMiscompares() {
    assertThat(
            check(
                w(1, 0, 10),
                caw(1, 2, 20, 40),
                miscompare(1, 25, 45),
                caw(2, 3, 50, 60),
                r(3, 70, 80)))
        .isEmpty();
  }

  @Test
  void aMiscompareAnIndeterminateWriteMayExplain() {
    // The failed write of 5 may have taken effect before the compare: it proves nothing.
    assertThat(check(w(1, 0, 10), w(5, 15, NEVER), miscompare(1, 20, 30), r(1, 40, 50))).isEmpty();
  }

  @Test
  void anIndeterminateWriteACompareAndWriteFoundIsNotLeftOut() {
    // Seed 6953419119643435828: a failed UNMAP took effect, and a compare-and-write expecting its
    // zeros found them; nobody read them otherwise.
    assertThat(check(w(5, 0, 10), w(0, 20, NEVER), caw(0, 7, 30, 40), r(7, 50, 60))).isEmpty();
  }

  @Test
  void anIndeterminateCompareAndWriteThatWasReadTookEffectWhereItFit() {
    assertThat(check(w(1, 0, 10), caw(1, 2, 20, NEVER), w(4, 30, 40), r(2, 35, 50))).isEmpty();
  }

  @Test
  void unflushedWriteLostWithTheOnlySiteHoldingItIsAccepted() {
    PowerLossRun run = new PowerLossRun();
    Op old = run.write(0, 10, false);
    run.a.flush();
    run.b.write(0, ByteBuffer.wrap(BlockData.encode(old.value, 0, 1)), true);
    Op flush = run.history.invoke("A", 1, Op.Kind.FLUSH, 0, 0, 0, 20);
    run.history.ok(flush, 30, null);
    Op lost = run.write(40, 50, false); // A leads alone: B still holds the older write
    Op read = run.history.invoke("A", 1, Op.Kind.READ, 0, 1, 0, 60);
    run.history.ok(read, 70, new long[] {lost.value});
    run.powerLossOfA(100);
    assertThat(run.a.value(0)).as("seed 2 loses the un-flushed block").isEqualTo(old.value);
    assertThat(lost.discarded).isTrue();
    Op after = run.history.invoke("A", 1, Op.Kind.READ, 0, 1, 0, 5_000);
    run.history.ok(after, 5_010, new long[] {run.a.value(0)});
    run.invariants.checkNothingLost(run.history, run.a, "A");
    run.invariants.checkFlushesKept(run.history);
    assertThat(run.invariants.violations()).isEmpty();
    assertThat(LinearizabilityChecker.check(run.history, 1, run.invariants.powerLoss)).isEmpty();
  }

  /** Two sites' disks, a history and the invariants, without any replication: a checker rig. */
  @Test
  void bothSitesLosingPowerExcuseOnlyWhatNoFlushCovered() {
    PowerLossRun unflushed = new PowerLossRun();
    Op w = unflushed.write(0, 10, false);
    unflushed.b.write(0, ByteBuffer.wrap(BlockData.encode(w.value, 0, 1)), true);
    unflushed.powerLossOfBoth(40);
    assertThat(unflushed.invariants.powerLoss.excusedCount())
        .as("B's durable copy is luck, not a promise: the write may go")
        .isEqualTo(1);

    PowerLossRun flushed = new PowerLossRun();
    Op v = flushed.write(0, 10, false);
    // B led alone and flushed it; A (stale) still holds it in its page cache.
    flushed.b.write(0, ByteBuffer.wrap(BlockData.encode(v.value, 0, 1)), true);
    Op flush = flushed.history.invoke("B", 2, Op.Kind.FLUSH, 0, 0, 0, 20);
    flushed.history.ok(flush, 30, null);
    flushed.powerLossOfBoth(40);
    assertThat(flushed.invariants.powerLoss.excusedCount())
        .as("seed 4139462308500976251: the flush promised it and B holds it durably")
        .isZero();
  }

  @Test
  void aValueDurableAtOnlyOneOfTwoStaleCopiesIsExcusedUnlessPromised() {
    PowerLossRun run = new PowerLossRun();
    Op older = run.write(0, 10, true); // FUA: durable at A, and B holds it durably too
    run.b.write(0, ByteBuffer.wrap(BlockData.encode(older.value, 0, 1)), true);
    // A write at A that was never acknowledged, yet durable there (its activity log flushed it).
    Op pending = run.history.invoke("A", 1, Op.Kind.WRITE, 0, 1, 0x1ff, 20);
    run.invariants.onWriteInvoked(pending);
    run.a.write(0, ByteBuffer.wrap(BlockData.encode(pending.value, 0, 1)), true);
    run.powerLossOfBoth(40);
    assertThat(pending.discarded)
        .as("seed 443291673364553827: recovery may let B's copy win; a read promised nothing")
        .isTrue();
    assertThat(older.discarded).as("the FUA write is promised and held durably").isFalse();
  }

  @Test
  void aStaleSiteKeepingPowerSavesWhatItWroteSinceItsOwnLoss() {
    PowerLossRun run = new PowerLossRun();
    run.powerLossOfBoth(5); // both stale from here on
    // B leads again and acknowledges a write it holds only in its page cache, which A applied.
    Op w = run.write(10, 20, false);
    run.b.write(0, ByteBuffer.wrap(BlockData.encode(w.value, 0, 1)), false);
    run.invariants.powerLoss.powerLoss(
        List.of(run.a),
        List.of(),
        List.of(run.b),
        30,
        run.history,
        () -> run.a.powerLoss(new SplittableRandom(2), false));
    assertThat(run.invariants.powerLoss.excusedCount())
        .as("seed 1997315687531635333: B kept power and holds the write it applied after its loss")
        .isZero();
  }

  @Test
  void anUnflushedUnmapLostWithThePageCacheIsExcusedAndAFlushedOneIsNot() {
    PowerLossRun unflushed = new PowerLossRun();
    Op v = unflushed.write(0, 10, true); // durable at A; B holds it too, not the unmap after it
    unflushed.b.write(0, ByteBuffer.wrap(BlockData.encode(v.value, 0, 1)), true);
    Op unmap = unflushed.unmap(20, 30);
    unflushed.powerLossOfA(40);
    assertThat(unmap.discarded)
        .as("its zeros were only in A's page cache, and nothing promised them")
        .isTrue();

    PowerLossRun flushed = new PowerLossRun();
    flushed.write(0, 10, true);
    Op kept = flushed.unmap(20, 30);
    Op flush = flushed.history.invoke("A", 1, Op.Kind.FLUSH, 0, 0, 0, 35);
    flushed.history.ok(flush, 36, null);
    flushed.powerLossOfA(40);
    assertThat(kept.discarded).as("the flush promised it: the final checks hold A to it").isFalse();
  }

  private static final class PowerLossRun {
    final History history = new History();
    final Invariants invariants = new Invariants();
    final SimDisk a = new SimDisk(4 * SimDisk.BLOCK);
    final SimDisk b = new SimDisk(4 * SimDisk.BLOCK);
    private long values;

    /** An acknowledged write of block 0 at A, in A's page cache (durable with {@code fua}). */
    Op write(long invoke, long complete, boolean fua) {
      Op op = history.invoke("A", 1, Op.Kind.WRITE, 0, 1, 0x100 + ++values, invoke);
      op.fua = fua;
      invariants.onWriteInvoked(op);
      a.write(0, ByteBuffer.wrap(BlockData.encode(op.value, 0, 1)), fua);
      history.ok(op, complete, null);
      return op;
    }

    /** An acknowledged UNMAP of block 0 at A, in A's page cache. */
    Op unmap(long invoke, long complete) {
      Op op = history.invoke("A", 1, Op.Kind.WRITE, 0, 1, 0x200 + ++values, invoke);
      op.zeroes = true;
      op.unmap = true;
      invariants.onWriteInvoked(op);
      invariants.onZeroWriteInvoked(op);
      a.unmap(0, SimDisk.BLOCK);
      history.ok(op, complete, null);
      return op;
    }

    void powerLossOfA(long atNanos) {
      invariants.powerLoss.powerLoss(
          List.of(a),
          List.of(b),
          List.of(),
          atNanos,
          history,
          () -> a.powerLoss(new SplittableRandom(2), false));
    }

    void powerLossOfBoth(long atNanos) {
      invariants.powerLoss.powerLoss(
          List.of(a, b),
          List.of(),
          List.of(),
          atNanos,
          history,
          () -> {
            a.powerLoss(new SplittableRandom(2), false);
            b.powerLoss(new SplittableRandom(2), false);
          });
    }
  }

  @Test
  void sequentialHistory() {
    assertThat(check(w(1, 0, 10), r(1, 20, 30), w(2, 40, 50), r(2, 60, 70))).isEmpty();
  }

  @Test
  void readConcurrentWithAWriteSeesEitherValue() {
    assertThat(check(w(1, 0, 100), r(0, 10, 20), r(1, 30, 40), r(1, 150, 160))).isEmpty();
  }

  @Test
  void unobservedIndeterminateWriteNeverTookEffect() {
    assertThat(check(w(1, 0, 10), w(2, 20, NEVER), r(1, 30, 40))).isEmpty();
  }

  @Test
  void indeterminateWriteMayTakeEffectLongAfterItFailed() {
    assertThat(check(w(1, 0, 10), w(2, 20, NEVER), r(1, 30, 40), r(2, 500, 510))).isEmpty();
  }

  @Test
  void operationsTouchingInTimeCountAsConcurrent() {
    assertThat(check(w(1, 0, 10), r(0, 10, 20))).isEmpty();
  }

  @Test
  void concurrentWritesInEitherOrder() {
    assertThat(check(w(1, 0, 100), w(2, 0, 100), r(2, 150, 160), r(2, 170, 180))).isEmpty();
    assertThat(check(w(3, 0, 100), w(4, 0, 100), r(3, 150, 160))).isEmpty();
  }

  @Test
  void generatedLinearizableHistoriesAreAccepted() {
    SplittableRandom rnd = new SplittableRandom(42);
    for (int round = 0; round < 20; round++) {
      List<RegisterOp> ops = generate(rnd, 2_000, 6);
      assertThat(RegisterChecker.check(ops, 0)).as("round " + round).isEmpty();
    }
  }

  /**
   * A history of a real register: {@code clients} clients each run operations back to back with
   * random durations; each takes effect at a random point inside its interval (some writes then
   * "fail": their completion is lost, as with a site that answered too late).
   */
  private List<RegisterOp> generate(SplittableRandom rnd, int count, int clients) {
    record Pending(boolean write, long value, long invoke, long point, long complete) {}
    List<Pending> pending = new ArrayList<>();
    long[] free = new long[clients];
    for (int i = 0; i < count; i++) {
      int c = rnd.nextInt(clients);
      long invoke = free[c] + rnd.nextLong(5);
      long complete = invoke + 1 + rnd.nextLong(40);
      long point = invoke + rnd.nextLong(complete - invoke + 1);
      free[c] = complete + 1;
      pending.add(new Pending(rnd.nextInt(2) == 0, i + 1, invoke, point, complete));
    }
    pending.sort((x, y) -> Long.compare(x.point(), y.point()));
    List<RegisterOp> ops = new ArrayList<>();
    long value = 0;
    for (Pending p : pending) {
      if (p.write()) {
        value = p.value();
        boolean lost = rnd.nextInt(20) == 0;
        ops.add(new RegisterOp(ids++, true, p.value(), p.invoke(), lost ? NEVER : p.complete()));
      } else {
        ops.add(new RegisterOp(ids++, false, value, p.invoke(), p.complete()));
      }
    }
    return ops;
  }
}
