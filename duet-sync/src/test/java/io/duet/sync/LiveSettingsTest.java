package io.duet.sync;

import static io.duet.sync.ReplicationHarness.await;
import static io.duet.sync.ReplicationHarness.block;
import static io.duet.sync.ReplicationHarness.serving;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.duet.sync.ReplicationStatus.LinkState;
import io.duet.sync.ReplicationStatus.SyncState;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Settings changed on a running group, and resync progress that counts only what is copied. */
class LiveSettingsTest {
  @TempDir Path dir;

  /** Writes one block at the start of each of {@code regions} regions at A while B is cut off. */
  private static void writeAlone(ReplicationHarness h, int regions, long tag) throws Exception {
    h.cutAndAwaitAlone();
    for (int r = 0; r < regions; r++) {
      h.a.volume(0).write(r * 2 * TestSite.REGION, block(tag, r), false);
    }
  }

  @Test
  void resyncTotalCountsOnlyTheRegionsThisResyncCopies() throws Exception {
    try (ReplicationHarness h = new ReplicationHarness(dir, 1, TestSite.FAST)) {
      h.awaitInSync();
      writeAlone(h, 24, 1);
      h.link.heal();
      h.awaitInSync();
      assertThat(h.a.largestResyncTotal.get()).isEqualTo(24 * TestSite.REGION);

      // A smaller second outage: the first resync's numbers must not leak into this one.
      h.a.largestResyncTotal.set(0);
      writeAlone(h, 3, 2);
      assertThat(h.a.status().resyncBytesTotal()).isZero();
      long copied = h.a.replicator.resync.bytesCopiedEver();
      h.link.heal();
      h.awaitInSync();
      assertThat(h.a.replicator.resync.bytesCopiedEver() - copied).isEqualTo(3 * TestSite.REGION);
      assertThat(h.a.largestResyncTotal.get()).isEqualTo(3 * TestSite.REGION);
      assertThat(h.a.status().resyncBytesDone()).isEqualTo(3 * TestSite.REGION);
      h.assertIdentical();
    }
  }

  @Test
  void autoResyncAndAutoRecoverTurnedOnActWithoutARestart() throws Exception {
    SyncSettings manual = TestSite.FAST.withAuto(false, false);
    try (ReplicationHarness h = new ReplicationHarness(dir, 1, manual)) {
      h.a.replicator.resyncNow();
      h.a.replicator.recoverNow();
      h.awaitInSync();
      writeAlone(h, 2, 1);
      h.link.heal();
      await(
          "session up, waiting for the operator",
          () ->
              h.a.status().link() == LinkState.UP
                  && h.a.status().syncState() == SyncState.RESYNCING);
      int session = h.a.replicator.sessionNo();
      assertThat(h.a.dirtyRegions()).isEqualTo(2);

      h.a.replicator.updateSettings(manual.withAuto(true, false));
      await("copied", () -> h.a.dirtyRegions() == 0);
      assertThat(serving(h.b)).as("auto-recover still off").isFalse();

      h.a.replicator.updateSettings(manual.withAuto(true, true));
      h.awaitInSync();
      assertThat(h.a.replicator.describe().join()).isNotEmpty();
      assertThat(h.a.replicator.sessionNo()).as("same session").isEqualTo(session);
      h.assertIdentical();
    }
  }

  @Test
  void aFasterRateAppliesToTheResyncInProgress() throws Exception {
    long slow = 16L << 10; // 16 KiB/s: 16 regions of 64 KiB would take a minute
    SyncSettings settings = TestSite.FAST.withResyncRate(slow);
    try (ReplicationHarness h = new ReplicationHarness(dir, 1, settings)) {
      h.awaitInSync();
      writeAlone(h, 16, 1);
      h.link.heal();
      await("resync under way", () -> h.a.replicator.resync.bytesCopiedEver() > 0);
      assertThat(h.a.status().resyncEtaSeconds()).isGreaterThan(30);
      long start = System.nanoTime();
      h.a.replicator.updateSettings(settings.withResyncRate(64L << 20));
      h.awaitInSync();
      assertThat((System.nanoTime() - start) / 1_000_000).as("ms to finish").isLessThan(10_000);
      h.assertIdentical();
    }
  }

  @Test
  void timingSettingsCannotChangeWhileRunning() throws Exception {
    try (ReplicationHarness h = new ReplicationHarness(dir, 1, TestSite.FAST)) {
      assertThatThrownBy(
              () -> h.a.replicator.updateSettings(TestSite.FAST.withTimes(50, 3000, 100, 1000)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("lease");
    }
  }
}
