package io.duet.sync;

import static io.duet.sync.ReplicationHarness.await;
import static io.duet.sync.ReplicationHarness.block;
import static io.duet.sync.ReplicationHarness.serving;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.duet.sync.ReplicationHarness.Writer;
import io.duet.sync.ReplicationStatus.Role;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Crashes, compare-and-write races, switchover and forced failover between two sites. */
class FailoverTest {
  @TempDir Path dir;

  private static long[] blocks(int from, int count) {
    long[] b = new long[count];
    for (int i = 0; i < count; i++) {
      b[i] = from + i;
    }
    return b;
  }

  /** Regions dirty at either site: what a resync must copy. */
  private static long union(ReplicationHarness h) {
    long n = 0;
    long regions = h.a.dirty.get(0).regionCount();
    for (long r = 0; r < regions; r++) {
      if (h.a.dirty.get(0).isDirty(r) || h.b.dirty.get(0).isDirty(r)) {
        n++;
      }
    }
    return n;
  }

  private void crashAndRecover(boolean crashLeader) throws Exception {
    try (ReplicationHarness h = new ReplicationHarness(dir, 1, TestSite.FAST)) {
      h.awaitInSync();
      AtomicBoolean stop = new AtomicBoolean();
      Writer wa = new Writer(h.a, 1, blocks(0, 64), stop).start();
      Writer wb = new Writer(h.b, 2, blocks(600, 64), stop).start();
      await("load", () -> wa.ackedCount > 50 && wb.ackedCount > 50);
      TestSite victim = crashLeader ? h.a : h.b;
      TestSite survivor = crashLeader ? h.b : h.a;
      h.link.cut(); // a killed process drops its connections
      victim.crash();
      if (!crashLeader) {
        long before = wa.ackedCount;
        await("leader goes on alone", () -> wa.ackedCount > before + 20);
      } else {
        await("follower stops serving", () -> !serving(survivor));
      }
      stop.set(true);
      (crashLeader ? wb : wa).join();
      (crashLeader ? wa : wb).abandon();
      victim.open();
      // The restarted site serves nothing until its peer has confirmed it.
      assertThat(serving(victim)).isFalse();
      assertThat(victim.dirtyRegions())
          .as("the activity log's extents, not the whole volume")
          .isBetween(1L, TestSite.VOLUME_BYTES / TestSite.REGION / 2);
      long expected = union(h);
      long copiedBefore =
          h.a.replicator.resync.bytesCopiedEver() + h.b.replicator.resync.bytesCopiedEver();
      h.link.heal();
      h.awaitInSync();
      // Whoever leads copies (after a leader's power loss, the follower would lead the resync).
      assertThat(
              h.a.replicator.resync.bytesCopiedEver()
                  + h.b.replicator.resync.bytesCopiedEver()
                  - copiedBefore)
          .isEqualTo(expected * TestSite.REGION);
      for (Writer w : List.of(wa, wb)) {
        w.checkReadable(h.a);
        w.checkReadable(h.b);
      }
      h.assertIdentical();
    }
  }

  @Test
  void followerCrashResyncsOnlyTheActivityLogAndDirtyRegions() throws Exception {
    crashAndRecover(false);
  }

  @Test
  void leaderCrashResyncsOnlyTheActivityLogAndDirtyRegions() throws Exception {
    crashAndRecover(true);
  }

  @Test
  void concurrentCompareAndWriteFromBothSitesHasExactlyOneWinnerPerRound() throws Exception {
    try (ReplicationHarness h = new ReplicationHarness(dir, 1, TestSite.FAST)) {
      h.awaitInSync();
      long offset = 5L * TestSite.BLOCK;
      h.a.volume(0).write(offset, block(7, 0), false);
      ByteBuffer current = block(7, 0);
      for (int round = 1; round <= 30; round++) {
        CyclicBarrier start = new CyclicBarrier(2);
        ByteBuffer expected = current;
        List<CompletableFuture<Long>> results = new ArrayList<>();
        int r = round;
        for (TestSite s : List.of(h.a, h.b)) {
          long writer = s == h.a ? 1 : 2;
          results.add(
              CompletableFuture.supplyAsync(
                  () -> {
                    try {
                      start.await();
                      return s.volume(0)
                          .compareAndWrite(offset, expected.duplicate(), block(writer, r), false);
                    } catch (Exception e) {
                      throw new IllegalStateException(e);
                    }
                  }));
        }
        long a = results.get(0).get();
        long b = results.get(1).get();
        assertThat(a == -1 ^ b == -1).as("exactly one winner in round %d", round).isTrue();
        current = block(a == -1 ? 1 : 2, r);
        for (TestSite s : List.of(h.a, h.b)) {
          ByteBuffer got = ByteBuffer.allocate(TestSite.BLOCK);
          s.volume(0).read(offset, got);
          assertThat(got.flip().mismatch(current.duplicate())).isEqualTo(-1);
        }
      }
      h.assertIdentical();
    }
  }

  @Test
  void switchoverUnderLoadMovesTheLeaderWithoutFailingIo() throws Exception {
    try (ReplicationHarness h = new ReplicationHarness(dir, 1, TestSite.FAST)) {
      h.awaitInSync();
      AtomicBoolean stop = new AtomicBoolean();
      Writer wa = new Writer(h.a, 1, blocks(0, 64), stop).start();
      Writer wb = new Writer(h.b, 2, blocks(64, 64), stop).start();
      await("load", () -> wa.ackedCount > 50 && wb.ackedCount > 50);
      h.a.replicator.switchover().get();
      await("B leads", () -> h.b.status().role() == Role.LEADER);
      assertThat(h.a.status().role()).isEqualTo(Role.FOLLOWER);
      assertThat(h.b.status().epoch()).isEqualTo(2);
      long a0 = wa.ackedCount;
      long b0 = wb.ackedCount;
      await(
          () -> "load continues " + h.dump(),
          () -> wa.ackedCount > a0 + 50 && wb.ackedCount > b0 + 50);
      h.awaitInSync();
      // And back again.
      h.b.replicator.switchover().get();
      long a1 = wa.ackedCount;
      await(() -> "load continues " + h.dump(), () -> wa.ackedCount > a1 + 50);
      stop.set(true);
      wa.join();
      wb.join();
      assertThat(wa.failures + wb.failures).isZero();
      for (Writer w : List.of(wa, wb)) {
        w.checkReadable(h.a);
        w.checkReadable(h.b);
      }
      h.assertIdentical();
    }
  }

  @Test
  void switchoverIsRefusedUnlessInSync() throws Exception {
    try (ReplicationHarness h = new ReplicationHarness(dir, 1, TestSite.FAST)) {
      h.awaitInSync();
      assertThatThrownBy(() -> h.b.replicator.switchover().get())
          .isInstanceOf(ExecutionException.class)
          .hasMessageContaining("refused");
      // Both sites must have seen the cut: until the leader has, it may still hand off.
      h.cutAndAwaitAlone();
      assertThatThrownBy(() -> h.a.replicator.switchover().get()).hasMessageContaining("refused");
    }
  }

  @Test
  void forcedFailoverFencesTheOldLeaderWhichResyncsFromTheNewOne() throws Exception {
    try (ReplicationHarness h = new ReplicationHarness(dir, 1, TestSite.FAST)) {
      h.awaitInSync();
      h.a.volume(0).write(0, block(1, 1), false);
      h.link.cut();
      await("follower unavailable", () -> !serving(h.b));
      h.a.volume(0).write(0, block(1, 2), false); // acknowledged by A alone: will be lost
      h.b.replicator.forceFailover("site A declared lost").get();
      assertThat(h.b.warnings).anyMatch(w -> w.contains("FORCED FAILOVER"));
      await("B leads at epoch 2", () -> h.b.status().epoch() == 2 && serving(h.b));
      h.b.volume(0).write(TestSite.BLOCK, block(2, 1), false);
      h.link.heal();
      h.awaitInSync();
      assertThat(h.a.status().role()).isEqualTo(Role.FOLLOWER);
      assertThat(h.a.status().epoch()).isEqualTo(2);
      assertThat(h.a.warnings).anyMatch(w -> w.contains("fenced"));
      for (TestSite s : List.of(h.a, h.b)) {
        ByteBuffer got = ByteBuffer.allocate(2 * TestSite.BLOCK);
        s.volume(0).read(0, got);
        got.flip();
        assertThat(got.getLong(0)).isEqualTo(1);
        assertThat(got.getLong(8)).as("A's lone write is gone").isEqualTo(1);
        assertThat(got.getLong(TestSite.BLOCK)).isEqualTo(2);
      }
      h.assertIdentical();
    }
  }
}
