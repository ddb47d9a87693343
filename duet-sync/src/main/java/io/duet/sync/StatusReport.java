package io.duet.sync;

import io.duet.sync.ReplicationStatus.Availability;
import io.duet.sync.ReplicationStatus.LinkState;
import io.duet.sync.ReplicationStatus.Role;
import io.duet.sync.ReplicationStatus.SyncState;

/** The replicator's loop state as a {@link ReplicationStatus}, and as text for diagnosis. */
final class StatusReport {
  private StatusReport() {}

  static ReplicationStatus compute(ConsistencyGroupReplicator g) {
    boolean leads = g.isLeader();
    SyncState sync;
    if (leads) {
      sync =
          switch (g.peerState) {
            case IN_SYNC -> SyncState.IN_SYNC;
            case SYNCING -> SyncState.RESYNCING;
            case ABSENT, LOST -> SyncState.OUT_OF_SYNC;
          };
    } else if (g.sessionUp()) {
      sync = g.followerSynced ? SyncState.IN_SYNC : SyncState.RESYNCING;
    } else {
      sync = SyncState.OUT_OF_SYNC;
    }
    boolean serving = g.serving();
    return new ReplicationStatus(
        leads ? Role.LEADER : Role.FOLLOWER,
        sync,
        g.sessionUp() ? LinkState.UP : LinkState.DOWN,
        serving
            ? Availability.SERVING
            : g.failover.deciding() ? Availability.TRANSITIONING : Availability.UNAVAILABLE,
        g.epoch(),
        g.leaderId(),
        g.resync.bytesDone(),
        g.resync.bytesTotal(),
        g.resync.etaSeconds(),
        g.failover.status());
  }

  /** A readable dump of the loop's state, for a stuck test or a support bundle. */
  static String describe(ConsistencyGroupReplicator g, RangeSequencer[] sequencers) {
    StringBuilder sb = new StringBuilder();
    sb.append("session=").append(g.session.describe());
    sb.append(" peer=").append(g.peerState).append(" synced=").append(g.followerSynced);
    for (int i = 0; i < sequencers.length; i++) {
      sb.append("\n seq").append(i).append(": ");
      for (RangeSequencer.Entry e : sequencers[i].snapshot()) {
        sb.append('[')
            .append(e.offset)
            .append('+')
            .append(e.end - e.offset)
            .append(e.shared ? " r" : " w")
            .append(e.admitted() ? " A] " : " q] ");
      }
    }
    sb.append("\n leader: ").append(g.leader.describe());
    sb.append("\n resync: ").append(g.resync.describe());
    return sb.toString();
  }
}
