package io.duet.sync;

import static io.duet.sync.ReplicationHarness.await;
import static io.duet.sync.ReplicationHarness.block;
import static io.duet.sync.ReplicationHarness.serving;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.duet.sync.ReplicationHarness.Writer;
import io.duet.sync.ReplicationStatus.SyncState;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReplicationTest {
  @TempDir Path dir;

  private static long[] blocks(int from, int count) {
    long[] b = new long[count];
    for (int i = 0; i < count; i++) {
      b[i] = from + i;
    }
    return b;
  }

  @Test
  void writesAtBothSitesAreReadableEverywhereAndSitesEndIdentical() throws Exception {
    try (ReplicationHarness h = new ReplicationHarness(dir, 1, TestSite.FAST)) {
      h.awaitInSync();
      AtomicBoolean stop = new AtomicBoolean();
      List<Writer> writers = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        writers.add(new Writer(i % 2 == 0 ? h.a : h.b, i + 1, blocks(i * 64, 64), stop).start());
      }
      // Overlapping writes from both sites to the same hot blocks, to exercise the ordering.
      List<Thread> hot = new ArrayList<>();
      for (TestSite s : List.of(h.a, h.b)) {
        hot.add(
            Thread.ofVirtual()
                .start(
                    () -> {
                      long c = 0;
                      while (!stop.get()) {
                        try {
                          s.volume(0).write((1000 + c % 4) * TestSite.BLOCK, block(99, c++), false);
                        } catch (Exception e) {
                          throw new AssertionError(e);
                        }
                      }
                    }));
      }
      await("writes acknowledged", () -> writers.stream().allMatch(w -> w.ackedCount > 200));
      stop.set(true);
      for (Writer w : writers) {
        w.join();
      }
      for (Thread t : hot) {
        t.join();
      }
      for (Writer w : writers) {
        assertThat(w.failures).isZero();
        w.checkReadable(h.a);
        w.checkReadable(h.b);
      }
      h.assertIdentical();
      assertThat(h.a.dirtyRegions()).isZero();
    }
  }

  @Test
  void aReadOnEitherSiteSeesTheLatestAcknowledgedWrite() throws Exception {
    try (ReplicationHarness h = new ReplicationHarness(dir, 1, TestSite.FAST)) {
      h.awaitInSync();
      for (int i = 0; i < 200; i++) {
        TestSite writer = i % 2 == 0 ? h.a : h.b;
        TestSite reader = i % 3 == 0 ? h.a : h.b;
        writer.volume(0).write(7 * TestSite.BLOCK, block(5, i), i % 5 == 0);
        ByteBuffer got = ByteBuffer.allocate(TestSite.BLOCK);
        reader.volume(0).read(7 * TestSite.BLOCK, got);
        assertThat(ReplicationHarness.decode(got.flip())[1]).isEqualTo(i);
      }
      h.b.volume(0).writeZeroes(0, 16 * TestSite.BLOCK, true);
      h.a.volume(0).unmap(16 * TestSite.BLOCK, 16 * TestSite.BLOCK);
      h.b.volume(0).flush();
      h.a.volume(0).flush();
      h.assertIdentical();
    }
  }

  @Test
  void linkCutLeaderContinuesAloneFollowerStopsAndResyncCopiesOnlyDirtyRegions() throws Exception {
    try (ReplicationHarness h = new ReplicationHarness(dir, 1, TestSite.FAST)) {
      h.awaitInSync();
      AtomicBoolean stop = new AtomicBoolean();
      Writer wa = new Writer(h.a, 1, blocks(0, 64), stop).start();
      Writer wb = new Writer(h.b, 2, blocks(64, 64), stop).start();
      await("some writes", () -> wa.ackedCount > 50 && wb.ackedCount > 50);
      h.link.cut();
      await("follower unavailable", () -> !serving(h.b));
      long before = wa.ackedCount;
      await("leader acknowledges alone", () -> wa.ackedCount > before + 50);
      assertThat(h.a.status().syncState()).isEqualTo(SyncState.OUT_OF_SYNC);
      assertThat(serving(h.a)).isTrue();
      assertThatThrownBy(() -> h.b.volume(0).read(0, ByteBuffer.allocate(TestSite.BLOCK)))
          .isInstanceOf(UnavailableException.class);
      stop.set(true);
      wa.join();
      wb.join();
      // Writers touched blocks 0..127 of 4 KiB: regions 0..7 of 64 KiB at most.
      long dirty = h.a.dirtyRegions();
      assertThat(dirty).isBetween(1L, 8L);
      long copiedBefore = h.a.replicator.resync.bytesCopiedEver();
      h.link.heal();
      h.awaitInSync();
      assertThat(h.a.replicator.resync.bytesCopiedEver() - copiedBefore)
          .as("resync copies exactly the regions written alone")
          .isEqualTo(dirty * TestSite.REGION);
      assertThat(h.a.dirtyRegions()).isZero();
      assertThat(h.b.dirtyRegions()).isZero();
      wa.checkReadable(h.a);
      wa.checkReadable(h.b);
      wb.checkReadable(h.b);
      wb.checkReadable(h.a);
      h.assertIdentical();
    }
  }

  @Test
  void silentLinkLeaderWaitsForTheFollowersLeaseBeforeAcknowledgingAlone() throws Exception {
    try (ReplicationHarness h = new ReplicationHarness(dir, 1, TestSite.FAST)) {
      h.awaitInSync();
      h.link.pause();
      long start = System.nanoTime();
      h.a.volume(0).write(0, block(1, 1), false); // waits: the follower may still serve
      long waitedMs = (System.nanoTime() - start) / 1_000_000;
      assertThat(waitedMs).isGreaterThanOrEqualTo(TestSite.FAST.leaseMs() - 100);
      await("follower stops serving", () -> !serving(h.b));
      h.link.cut();
      h.link.heal();
      h.awaitInSync();
      h.assertIdentical();
    }
  }
}
