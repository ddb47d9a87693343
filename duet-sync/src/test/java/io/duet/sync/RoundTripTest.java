package io.duet.sync;

import static org.assertj.core.api.Assertions.assertThat;

import io.duet.sync.proto.Message;
import io.duet.sync.proto.Message.ForwardedWrite;
import io.duet.sync.proto.Message.OrderedWrite;
import io.duet.sync.proto.Message.WritesApplied;
import io.duet.sync.proto.Message.WritesCommitted;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a write costs on the link, deterministically on virtual time: one round trip at either site,
 * with the per-write acknowledgements of a busy loop pass travelling as one frame.
 */
class RoundTripTest {
  private static final int QUEUE_DEPTH = 32;
  @TempDir Path dir;

  @Test
  void concurrentWritesCostOneRoundTripAndTheirAcknowledgementsAreBatched() throws Exception {
    try (SimSites sites = new SimSites(dir)) {
      SimLink link = new SimLink(sites.sim);
      List<Message> fromA = new ArrayList<>();
      List<Message> fromB = new ArrayList<>();
      ConsistencyGroupReplicator a =
          sites.open(
              "a",
              TestSite.SITE_A,
              TestSite.SITE_B,
              new TappedTransport(link.a, fromA::add),
              SyncSettings.defaults());
      ConsistencyGroupReplicator b =
          sites.open(
              "b",
              TestSite.SITE_B,
              TestSite.SITE_A,
              new TappedTransport(link.b, fromB::add),
              SyncSettings.defaults());
      link.heal();
      sites.awaitInSync(a, b);

      // A queue of writes at the leader; time does not move, so no heartbeat interferes.
      fromA.clear();
      fromB.clear();
      List<HostRequest> writes = new ArrayList<>();
      for (int i = 0; i < QUEUE_DEPTH; i++) {
        writes.add(LeaseTimingTest.write(a, i));
      }
      sites.sim.runReady();
      assertThat(writes).allSatisfy(w -> assertThat(w.done).isCompletedWithValue(-1L));
      assertThat(fromA).hasSize(QUEUE_DEPTH + 1);
      assertThat(fromA.subList(0, QUEUE_DEPTH)).allMatch(m -> m instanceof OrderedWrite);
      assertThat(((WritesCommitted) fromA.get(QUEUE_DEPTH)).seqs()).hasSize(QUEUE_DEPTH);
      assertThat(fromB).singleElement().isInstanceOf(WritesApplied.class);
      assertThat(((WritesApplied) fromB.get(0)).seqs()).hasSize(QUEUE_DEPTH);

      // The same at the follower: forwarded, ordered back, applied; nothing to commit.
      fromA.clear();
      fromB.clear();
      writes.clear();
      for (int i = 0; i < QUEUE_DEPTH; i++) {
        writes.add(LeaseTimingTest.write(b, 100 + i));
      }
      sites.sim.runReady();
      assertThat(writes).allSatisfy(w -> assertThat(w.done).isCompletedWithValue(-1L));
      assertThat(fromB).hasSize(QUEUE_DEPTH + 1);
      assertThat(fromB.subList(0, QUEUE_DEPTH)).allMatch(m -> m instanceof ForwardedWrite);
      assertThat(fromB.get(QUEUE_DEPTH)).isInstanceOf(WritesApplied.class);
      assertThat(fromA).hasSize(QUEUE_DEPTH).allMatch(m -> m instanceof OrderedWrite);
    }
  }
}
