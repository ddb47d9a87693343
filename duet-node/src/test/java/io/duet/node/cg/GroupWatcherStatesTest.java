package io.duet.node.cg;

import static org.assertj.core.api.Assertions.assertThat;

import io.duet.scsi.UnitAlua.BaseState;
import io.duet.sync.ReplicationStatus;
import io.duet.sync.ReplicationStatus.Availability;
import io.duet.sync.ReplicationStatus.LinkState;
import io.duet.sync.ReplicationStatus.Role;
import io.duet.sync.ReplicationStatus.SyncState;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The ALUA states a group's status gives both sites' port groups at this site. */
class GroupWatcherStatesTest {
  static final SiteInfo LOCAL = new SiteInfo("a", "u-a", 1, List.of(1), List.of(), List.of(), 1);
  static final SiteInfo PEER = new SiteInfo("b", "u-b", 2, List.of(2), List.of(), List.of(), 2);

  static ReplicationStatus status(Role role, SyncState sync, LinkState link, Availability a) {
    return new ReplicationStatus(
        role, sync, link, a, 2, UUID.randomUUID(), 0, 0, -1, ReplicationStatus.MediatorStatus.NONE);
  }

  static GroupSite.AluaStates states(ReplicationStatus s) {
    return GroupWatcher.states(s, LOCAL, PEER);
  }

  @Test
  void aFollowerWaitingForTheMediatorIsTransitioning() {
    GroupSite.AluaStates s =
        states(
            status(Role.FOLLOWER, SyncState.IN_SYNC, LinkState.DOWN, Availability.TRANSITIONING));
    assertThat(s.localState()).isEqualTo(BaseState.TRANSITIONING);
    assertThat(s.peerState()).isEqualTo(BaseState.ACTIVE);
  }

  @Test
  void servingAndUnavailableMapAsBefore() {
    GroupSite.AluaStates leader =
        states(status(Role.LEADER, SyncState.IN_SYNC, LinkState.UP, Availability.SERVING));
    assertThat(leader.localState()).isEqualTo(BaseState.ACTIVE);
    assertThat(leader.peerState()).isEqualTo(BaseState.ACTIVE);
    GroupSite.AluaStates alone =
        states(status(Role.LEADER, SyncState.OUT_OF_SYNC, LinkState.DOWN, Availability.SERVING));
    assertThat(alone.peerState()).isEqualTo(BaseState.UNAVAILABLE);
    GroupSite.AluaStates stale =
        states(
            status(Role.FOLLOWER, SyncState.OUT_OF_SYNC, LinkState.DOWN, Availability.UNAVAILABLE));
    assertThat(stale.localState()).isEqualTo(BaseState.UNAVAILABLE);
  }
}
