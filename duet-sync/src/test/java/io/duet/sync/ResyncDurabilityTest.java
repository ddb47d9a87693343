package io.duet.sync;

import static io.duet.sync.ReplicationHarness.block;
import static org.assertj.core.api.Assertions.assertThat;

import io.duet.store.ForwardingVolume;
import io.duet.store.Volume;
import io.duet.sync.proto.Message;
import io.duet.sync.proto.Message.ResyncAck;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A follower acknowledges a resynced region (and the leader clears its dirty bit) only after the
 * region is durable there: a power loss after the acknowledgement cannot lose the copy.
 */
class ResyncDurabilityTest {
  @TempDir Path dir;

  /** What the follower did, in order: "W offset", "F" (fdatasync began), "A offset" (ack sent). */
  private final List<String> events = new ArrayList<>();

  private void record(String event) {
    synchronized (events) {
      events.add(event);
    }
  }

  private void recordAck(Message m) {
    if (m instanceof ResyncAck a) {
      record("A " + a.region() * TestSite.REGION);
    }
  }

  /** Records writes and flushes of the follower's volume. */
  private final class RecordingVolume extends ForwardingVolume {
    RecordingVolume(Volume delegate) {
      super(delegate);
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
      super.write(offset, src, fua);
      record("W " + offset);
    }

    @Override
    public void flush() throws IOException {
      // Recorded before it starts: only writes already returned are covered by it.
      record("F");
      super.flush();
    }
  }

  @Test
  void everyAcknowledgedResyncRegionWasFlushedAfterItWasWritten() throws Exception {
    try (ReplicationHarness h =
        new ReplicationHarness(
            dir,
            1,
            TestSite.FAST,
            ReplicationHarness.atSiteB(
                s -> {
                  s.volumeWrapper = RecordingVolume::new;
                  s.transportWrapper = t -> new TappedTransport(t, this::recordAck);
                }))) {
      h.awaitInSync();
      h.cutAndAwaitAlone();
      for (int r = 0; r < 24; r++) {
        h.a.volume(0).write(r * TestSite.REGION, block(1, r), false);
      }
      synchronized (events) {
        events.clear();
      }
      h.link.heal();
      h.awaitInSync();
      h.assertIdentical();

      List<String> seen;
      synchronized (events) {
        seen = List.copyOf(events);
      }
      int acks = 0;
      for (int i = 0; i < seen.size(); i++) {
        if (!seen.get(i).startsWith("A ")) {
          continue;
        }
        acks++;
        String offset = seen.get(i).substring(2);
        int written = seen.lastIndexOf("W " + offset);
        assertThat(written).as("region at %s written before its ack", offset).isBetween(0, i);
        assertThat(seen.subList(written, i))
            .as("a flush between the write of %s and its ack: %s", offset, seen)
            .contains("F");
      }
      assertThat(acks).isEqualTo(24);
    }
  }

  /**
   * What the leader's volume did, in order: "offset durable" / "offset cached" for writes, "F" for
   * a flush (recorded once it returned), "R" for a read (a resync copy reads).
   */
  private final List<String> leaderWrites = new ArrayList<>();

  private void recordAtLeader(String event) {
    synchronized (leaderWrites) {
      leaderWrites.add(event);
    }
  }

  /** The writes the leader recorded, without its flushes and reads. */
  private List<String> leaderWritesOnly() {
    synchronized (leaderWrites) {
      return leaderWrites.stream().filter(e -> e.contains(" ")).toList();
    }
  }

  private final class LeaderVolume extends ForwardingVolume {
    LeaderVolume(Volume delegate) {
      super(delegate);
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
      super.write(offset, src, fua);
      recordAtLeader(offset + (fua ? " durable" : " cached"));
    }

    @Override
    public void flush() throws IOException {
      super.flush();
      recordAtLeader("F");
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
      super.read(offset, dst);
      recordAtLeader("R");
    }
  }

  /**
   * A leader that went on alone holds the copy that wins: while its follower resyncs, what it
   * writes (and the follower also applies) is durable at the leader before the acknowledgement, so
   * a power loss of the leader cannot make the resync copy an older block over the follower's.
   */
  @Test
  void aLeaderThatWentAloneWritesDurablyWhileItsFollowerResyncs() throws Exception {
    try (ReplicationHarness h =
        new ReplicationHarness(
            dir,
            1,
            TestSite.FAST.withResyncRate(256 * 1024),
            s -> {
              if (s.siteId.equals(TestSite.SITE_A)) {
                s.volumeWrapper = LeaderVolume::new;
              }
            })) {
      h.awaitInSync();
      h.cutAndAwaitAlone();
      for (int r = 0; r < 16; r++) {
        h.a.volume(0).write(r * TestSite.REGION, block(1, r), false);
      }
      long probe = 100 * TestSite.REGION;
      h.link.heal();
      ReplicationHarness.await(
          "the follower resyncing",
          () -> h.a.replicator.status().syncState() == ReplicationStatus.SyncState.RESYNCING);
      synchronized (leaderWrites) {
        leaderWrites.clear();
      }
      h.a.volume(0).write(probe, block(2, 0), false); // replicated to the resyncing follower
      boolean stillResyncing =
          h.a.replicator.status().syncState() == ReplicationStatus.SyncState.RESYNCING;
      synchronized (leaderWrites) {
        assertThat(leaderWritesOnly()).contains(probe + " durable");
      }
      assertThat(stillResyncing).as("the probe was written while resyncing").isTrue();
      h.awaitInSync();
      synchronized (leaderWrites) {
        leaderWrites.clear();
      }
      h.a.volume(0).write(probe, block(3, 0), false);
      synchronized (leaderWrites) {
        assertThat(leaderWritesOnly()).containsExactly(probe + " cached"); // in sync: page cache
      }
      h.assertIdentical();
    }
  }

  /**
   * A leader that went on alone wrote to its page cache; before its resync copies any region to the
   * follower, that data is durable here: a power loss of the leader must not leave the follower
   * holding writes the winning copy lost (simulation seed 2006088833514613305).
   */
  @Test
  void aLeaderAloneMakesItsDataDurableBeforeTheResyncCopiesIt() throws Exception {
    try (ReplicationHarness h =
        new ReplicationHarness(
            dir,
            1,
            TestSite.FAST,
            s -> {
              if (s.siteId.equals(TestSite.SITE_A)) {
                s.volumeWrapper = LeaderVolume::new;
              }
            })) {
      h.awaitInSync();
      h.cutAndAwaitAlone();
      for (int r = 0; r < 8; r++) {
        h.a.volume(0).write(r * TestSite.REGION, block(1, r), false);
      }
      synchronized (leaderWrites) {
        leaderWrites.clear();
      }
      h.link.heal();
      h.awaitInSync();
      List<String> seen;
      synchronized (leaderWrites) {
        seen = new ArrayList<>(leaderWrites);
      }
      int firstRead = seen.indexOf("R");
      assertThat(firstRead).as("the resync read the regions: %s", seen).isNotNegative();
      assertThat(seen.subList(0, firstRead)).as("events before the first copy").contains("F");
      h.assertIdentical();
    }
  }
}
