package io.duet.sync;

import static io.duet.sync.ReplicationHarness.await;
import static io.duet.sync.ReplicationHarness.block;
import static io.duet.sync.ReplicationHarness.serving;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.duet.sync.ReplicationStatus.SyncState;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Verify by digest, repair, the resync rate limit and the autoResync/autoRecover settings. */
class VerifyAndResyncTest {
  @TempDir Path dir;

  @Test
  void verifyReportsADivergedRegionAndRepairsItFromTheLeader() throws Exception {
    try (ReplicationHarness h = new ReplicationHarness(dir, 2, TestSite.FAST)) {
      h.awaitInSync();
      h.a.volume(0).write(0, block(1, 1), false);
      h.b.volume(1).write(3 * TestSite.REGION, block(2, 1), false);
      VerifyReport clean = h.a.replicator.verify(false).get();
      assertThat(clean.differing()).isEmpty();
      assertThat(clean.regionsCompared()).isEqualTo(2 * TestSite.VOLUME_BYTES / TestSite.REGION);

      // Damage the follower's copy behind replication's back.
      h.b.locals.get(1).write(5 * TestSite.REGION + TestSite.BLOCK, block(66, 6), false);
      VerifyReport found = h.a.replicator.verify(false).get();
      assertThat(found.differing()).containsExactly(new VerifyReport.Region(1, 5));
      assertThat(found.repairScheduled()).isFalse();

      VerifyReport repaired = h.a.replicator.verify(true).get();
      assertThat(repaired.repairScheduled()).isTrue();
      h.awaitInSync();
      assertThat(h.a.replicator.verify(false).get().differing()).isEmpty();
      h.assertIdentical();
    }
  }

  @Test
  void verifyIsRefusedAtTheFollower() throws Exception {
    try (ReplicationHarness h = new ReplicationHarness(dir, 1, TestSite.FAST)) {
      h.awaitInSync();
      assertThatThrownBy(() -> h.b.replicator.verify(false).get())
          .hasMessageContaining("leader of an in-sync group");
    }
  }

  @Test
  void resyncIsRateLimitedAndReportsProgress() throws Exception {
    long rate = 2L << 20; // 2 MiB/s
    try (ReplicationHarness h =
        new ReplicationHarness(dir, 1, TestSite.FAST.withResyncRate(rate))) {
      h.awaitInSync();
      h.link.cut();
      await("alone", () -> h.a.status().syncState() == SyncState.OUT_OF_SYNC && !serving(h.b));
      // 32 regions of 64 KiB = 2 MiB: one second at the limit.
      for (int r = 0; r < 32; r++) {
        h.a.volume(0).write(r * TestSite.REGION, block(1, r), false);
      }
      assertThat(h.a.dirtyRegions()).isEqualTo(32);
      long start = System.nanoTime();
      h.link.heal();
      await("resync in progress", () -> h.a.status().resyncBytesTotal() > 0);
      assertThat(h.a.status().resyncBytesTotal()).isEqualTo(32 * TestSite.REGION);
      h.awaitInSync();
      long elapsedMs = (System.nanoTime() - start) / 1_000_000;
      // The first window goes at once; the rest waits for the limiter.
      assertThat(elapsedMs).isGreaterThanOrEqualTo(700);
      assertThat(h.a.status().resyncBytesDone()).isEqualTo(32 * TestSite.REGION);
      h.assertIdentical();
    }
  }

  @Test
  void withoutAutoResyncAndAutoRecoverTheOperatorDrivesBoth() throws Exception {
    SyncSettings manual = TestSite.FAST.withAuto(false, false);
    try (ReplicationHarness h = new ReplicationHarness(dir, 1, manual)) {
      h.a.replicator.resyncNow();
      h.a.replicator.recoverNow();
      h.awaitInSync();
      h.link.cut();
      await("alone", () -> !serving(h.b));
      h.a.volume(0).write(0, block(1, 1), false);
      h.link.heal();
      await(
          "session up",
          () ->
              h.a.status().link() == ReplicationStatus.LinkState.UP
                  && h.a.status().syncState() == SyncState.RESYNCING);
      assertThat(h.a.dirtyRegions()).isEqualTo(1); // nothing copied yet
      h.a.replicator.resyncNow();
      await("copied", () -> h.a.dirtyRegions() == 0);
      assertThat(serving(h.b)).isFalse(); // not before the operator says so
      h.a.replicator.recoverNow();
      h.awaitInSync();
      h.assertIdentical();
      assertThat(List.of(h.a.status().syncState(), h.b.status().syncState()))
          .containsOnly(SyncState.IN_SYNC);
    }
  }

  @Test
  void anInterruptedResyncResumesWithTheRegionsNotYetCopied() throws Exception {
    long rate = 1L << 20; // 1 MiB/s: 32 regions take two seconds
    try (ReplicationHarness h =
        new ReplicationHarness(dir, 1, TestSite.FAST.withResyncRate(rate))) {
      h.awaitInSync();
      h.link.cut();
      await("alone", () -> !serving(h.b));
      for (int r = 0; r < 32; r++) {
        h.a.volume(0).write(r * TestSite.REGION, block(1, r), false);
      }
      h.link.heal();
      await("part copied", () -> h.a.replicator.resync.bytesCopiedEver() >= 8 * TestSite.REGION);
      h.link.cut();
      // Once the leader has seen the link go down, no more acknowledgements are counted.
      await("session down", () -> h.a.status().link() == ReplicationStatus.LinkState.DOWN);
      long left = h.a.dirtyRegions();
      assertThat(left).as("dirty bits cleared only for copied regions").isBetween(1L, 24L);
      long copied = h.a.replicator.resync.bytesCopiedEver();
      assertThat(copied / TestSite.REGION + left).isEqualTo(32);
      h.link.heal();
      h.awaitInSync();
      assertThat(h.a.replicator.resync.bytesCopiedEver() - copied)
          .as("the resumed resync copies only what was left")
          .isEqualTo(left * TestSite.REGION);
      h.assertIdentical();
    }
  }
}
