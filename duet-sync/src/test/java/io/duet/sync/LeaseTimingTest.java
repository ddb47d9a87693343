package io.duet.sync;

import static org.assertj.core.api.Assertions.assertThat;

import io.duet.sync.ReplicationStatus.SyncState;
import io.duet.sync.proto.Message.WriteKind;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The lease rule on virtual time (G3): when the link goes silent, the follower stops serving before
 * the leader acknowledges any write alone, by at least the drift margin — with the defaults
 * (heartbeat 1 s, lease 5 s, margin 0.5 s, peer timeout 3 s). Everything runs on one thread through
 * {@link ManualScheduler}, as the simulator will run it.
 */
class LeaseTimingTest {
  private static final long MS = SimSites.MS;
  @TempDir Path dir;
  private SimSites sites;
  private ManualScheduler sim;

  @BeforeEach
  void open() {
    sites = new SimSites(dir);
    sim = sites.sim;
  }

  @AfterEach
  void close() throws Exception {
    sites.close();
  }

  @Test
  void followerStopsServingAtLeastTheMarginBeforeTheLeaderAcknowledgesAlone() throws Exception {
    SimLink link = new SimLink(sim);
    ConsistencyGroupReplicator a =
        sites.open("a", TestSite.SITE_A, TestSite.SITE_B, link.a, SyncSettings.defaults());
    ConsistencyGroupReplicator b =
        sites.open("b", TestSite.SITE_B, TestSite.SITE_A, link.b, SyncSettings.defaults());
    link.heal();
    sites.awaitInSync(a, b);

    // A replicated write completes at once while the link works.
    HostRequest first = write(a, 0);
    sim.advance(MS);
    assertThat(first.done).isCompletedWithValue(-1L);

    link.pause(); // frames are held: neither site hears the other any more
    long pausedAt = sim.nanoTime();
    HostRequest alone = write(a, 1);
    // A unit-state command is acknowledged alone on exactly the write's rule.
    CompletableFuture<byte[]> command = a.executeShared(0, new byte[] {1});
    long followerStoppedAt = -1;
    long leaderAckedAt = -1;
    long commandAckedAt = -1;
    for (int step = 0; step < 20_000 && (leaderAckedAt < 0 || commandAckedAt < 0); step++) {
      sim.advance(MS);
      if (followerStoppedAt < 0 && !readable(b)) {
        followerStoppedAt = sim.nanoTime();
      }
      if (alone.done.isDone() && leaderAckedAt < 0) {
        leaderAckedAt = sim.nanoTime();
      }
      if (command.isDone() && commandAckedAt < 0) {
        commandAckedAt = sim.nanoTime();
      }
    }
    assertThat(followerStoppedAt).as("follower stopped serving").isPositive();
    assertThat(leaderAckedAt).as("leader acknowledged alone").isPositive();
    assertThat(alone.done).isCompletedWithValue(-1L);
    assertThat(command).isCompleted();
    assertThat(commandAckedAt).as("the command waits exactly as long").isEqualTo(leaderAckedAt);
    assertThat(leaderAckedAt - followerStoppedAt)
        .as("the leader waits out the follower's lease plus the margin")
        .isGreaterThanOrEqualTo(SyncSettings.LEASE_MARGIN_DEFAULT_MS * MS - 2 * MS);
    assertThat(leaderAckedAt - pausedAt)
        .isLessThanOrEqualTo(
            (SyncSettings.LEASE_DEFAULT_MS
                    + SyncSettings.LEASE_MARGIN_DEFAULT_MS
                    + SyncSettings.HEARTBEAT_INTERVAL_DEFAULT_MS)
                * MS);
    assertThat(a.status().syncState()).isEqualTo(SyncState.OUT_OF_SYNC);
  }

  static HostRequest write(ConsistencyGroupReplicator g, long block) {
    HostRequest r =
        HostRequest.write(
            0,
            block * TestSite.BLOCK,
            TestSite.BLOCK,
            WriteKind.WRITE,
            false,
            new byte[TestSite.BLOCK]);
    g.submit(r);
    return r;
  }

  /** Whether a read at {@code g} is admitted now (then released at once). */
  private boolean readable(ConsistencyGroupReplicator g) {
    CompletableFuture<RangeSequencer.Entry> f = g.admitRead(0, 1 << 20, TestSite.BLOCK);
    sim.runReady();
    if (f.isCompletedExceptionally()) {
      return false;
    }
    g.releaseSlot(0, f.join());
    sim.runReady();
    return true;
  }
}
