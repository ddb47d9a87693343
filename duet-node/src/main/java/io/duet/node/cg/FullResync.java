package io.duet.node.cg;

import io.duet.node.AdminException;
import io.duet.sync.GroupState;
import io.duet.sync.link.ControlException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.UUID;

/**
 * {@code duet cg resync NAME --full}: rebuilds a group's replication state at this site and
 * restarts it, so every region is copied from the site that leads. The way out when the state is
 * missing (a replaced or damaged data directory): the group then does not start, rather than start
 * afresh and resync too little.
 *
 * <p>What is rebuilt: every volume's dirty map, with every region marked; a missing activity log
 * (an existing one is kept: its extents still tell whether this site stopped uncleanly); a missing
 * epoch, from the peer's view, with this site stale so it leads nothing and serves nothing until
 * the peer has resynced it. The peer must be reachable for that last one.
 */
final class FullResync {
  private final ConsistencyGroups groups;

  FullResync(ConsistencyGroups groups) {
    this.groups = groups;
  }

  CgViews.Group run(String name) throws IOException {
    ConsistencyGroups.Entry e = groups.find(name);
    Path dir = groups.runner().groupDir(e.record.id());
    // Asked before the lock: the peer's answer must not wait behind an operation of ours.
    CgViews.Group peer = GroupState.exists(dir) ? null : peerView(e.record);
    groups.lock.lock();
    try {
      CgRecord r = e.record;
      if (groups.entry(r.id()) != e) {
        throw AdminException.conflict("consistency group '" + name + "' changed meanwhile");
      }
      groups.runner().stop(e, false);
      if (peer != null && !GroupState.exists(dir)) {
        GroupState.recreateStale(dir, peer.epoch(), UUID.fromString(peer.leaderSiteId()));
      }
      ReplicatedGroup.rebuildForFullResync(r, groups.site.store());
      groups.site.event(
          "cg.resync.full",
          name,
          "consistency group "
              + name
              + ": replication state rebuilt at "
              + groups.site.name()
              + (peer != null
                  ? " (epoch " + peer.epoch() + " from " + r.peerName() + ", this site stale)"
                  : "")
              + "; every region is copied from the site that leads");
      try {
        groups.runner().run(e);
      } catch (IOException | RuntimeException x) {
        e.problem = x.getMessage() == null ? x.toString() : x.getMessage();
        throw AdminException.conflict("state rebuilt, but the group did not start: " + e.problem);
      }
      return GroupViews.view(groups.site, e);
    } finally {
      groups.lock.unlock();
    }
  }

  /** The peer's view of the group, which must be running there with an epoch. */
  private CgViews.Group peerView(CgRecord r) {
    // An unreachable peer is an AdminException (unavailable) naming it, from ask.
    byte[] answer =
        groups
            .controls()
            .ask(
                UUID.fromString(r.peerSiteId()),
                new ControlWire.Request(
                    ControlWire.CG_STATUS, groups.site.info(), null, r.id(), null),
                GroupValidation.PEER_VIEW_TIMEOUT_MS);
    CgViews.Group peer;
    try {
      peer = groups.wire.groupView(answer);
    } catch (ControlException x) {
      throw AdminException.conflict(r.peerName() + " answered badly: " + x.getMessage());
    }
    if (peer.epoch() < 1 || peer.leaderSiteId() == null) {
      throw AdminException.conflict(
          "this site lost the group's epoch and "
              + r.peerName()
              + " is not running the group either ("
              + peer.availability()
              + "): nothing to rebuild it from");
    }
    return peer;
  }
}
