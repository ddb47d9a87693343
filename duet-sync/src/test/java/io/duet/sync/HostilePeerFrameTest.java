package io.duet.sync;

import static org.assertj.core.api.Assertions.assertThat;

import io.duet.sync.proto.Frame;
import io.duet.sync.proto.FrameCodec;
import io.duet.sync.proto.Message;
import io.duet.sync.proto.Message.DigestRequest;
import io.duet.sync.proto.Message.DigestResponse;
import io.duet.sync.proto.Message.Refusal;
import io.duet.sync.proto.Message.RequestRefused;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Frames a peer may send that decode but ask for the impossible: the follower refuses each one by
 * name and keeps replicating.
 */
class HostilePeerFrameTest {
  @TempDir Path dir;

  @Test
  void digestRequestsOutsideTheVolumeAreRefusedWithoutOverflow() throws Exception {
    try (SimSites sites = new SimSites(dir)) {
      SimLink link = new SimLink(sites.sim);
      List<Message> fromB = new ArrayList<>();
      ConsistencyGroupReplicator a =
          sites.open("a", TestSite.SITE_A, TestSite.SITE_B, link.a, SyncSettings.defaults());
      ConsistencyGroupReplicator b =
          sites.open(
              "b",
              TestSite.SITE_B,
              TestSite.SITE_A,
              new TappedTransport(link.b, fromB::add),
              SyncSettings.defaults());
      link.heal();
      sites.awaitInSync(a, b);
      long regions = TestSite.VOLUME_BYTES / TestSite.REGION;

      // firstRegion + count wraps past Long.MAX_VALUE into a small number; so does the offset.
      long[] firstRegions = {Long.MAX_VALUE - 1, Long.MAX_VALUE, regions, regions - 1};
      int[] counts = {4, 1, 1, 2};
      for (int i = 0; i < firstRegions.length; i++) {
        link.a.send(
            FrameCodec.encode(
                new Frame(
                    TestSite.GROUP,
                    a.epoch(),
                    new DigestRequest(i, 0, firstRegions[i], counts[i]))));
      }
      // One that fits: the last region alone, answered with its digest.
      link.a.send(
          FrameCodec.encode(
              new Frame(TestSite.GROUP, a.epoch(), new DigestRequest(99, 0, regions - 1, 1))));
      sites.sim.runReady();

      for (int i = 0; i < firstRegions.length; i++) {
        assertThat(fromB).contains(new RequestRefused(i, Refusal.UNAVAILABLE));
      }
      assertThat(fromB)
          .filteredOn(m -> m instanceof DigestResponse)
          .singleElement()
          .satisfies(m -> assertThat(((DigestResponse) m).requestId()).isEqualTo(99));
      sites.awaitInSync(a, b);
    }
  }
}
