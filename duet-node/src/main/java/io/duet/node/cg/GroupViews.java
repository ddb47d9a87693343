package io.duet.node.cg;

import io.duet.sync.ReplicationStatus;

/** Builds the REST views of a group from its record and its replicator's latest status. */
final class GroupViews {
  private GroupViews() {}

  static ReplicationStatus status(ConsistencyGroups.Entry e) {
    return e.running == null ? null : e.running.replicator().status();
  }

  static double percent(ReplicationStatus s) {
    if (s.syncState() != ReplicationStatus.SyncState.RESYNCING || s.resyncBytesTotal() <= 0) {
      return s.syncState() == ReplicationStatus.SyncState.IN_SYNC ? 100.0 : 0.0;
    }
    return Math.min(100.0, 100.0 * s.resyncBytesDone() / s.resyncBytesTotal());
  }

  /**
   * The group's mediator contact. Configured follows the site (every group gets the site's
   * mediator), so a group that is not running, or whose replicator has not yet answered, still
   * shows it.
   */
  static CgViews.Mediator mediator(GroupSite site, ReplicationStatus s) {
    CgViews.Mediator m = s == null ? CgViews.Mediator.NONE : CgViews.Mediator.of(s.mediator());
    boolean configured = site.mediatorAddress().isPresent();
    return m.configured() == configured
        ? m
        : new CgViews.Mediator(
            configured,
            configured && m.connected(),
            configured && m.inQuorum(),
            configured && m.preElected(),
            configured ? m.leaseRemainingMs() : 0,
            m.lastMessage());
  }

  static CgViews.Group view(GroupSite site, ConsistencyGroups.Entry e) {
    CgRecord r = e.record;
    ReplicationStatus s = status(e);
    String me = site.siteId().toString();
    String leaderId = s == null ? r.sourceSiteId() : s.leaderId().toString();
    String role = leaderId.equals(me) ? "LEADER" : "FOLLOWER";
    CgViews.Resync resync =
        s == null
            ? new CgViews.Resync(0, 0, -1, 0.0)
            : new CgViews.Resync(
                s.resyncBytesDone(), s.resyncBytesTotal(), s.resyncEtaSeconds(), percent(s));
    return new CgViews.Group(
        r.name(),
        r.id(),
        r.policy(),
        r.peerName(),
        r.peerSiteId(),
        role,
        leaderId.equals(me) ? site.name() : r.peerName(),
        leaderId,
        s == null ? 0 : s.epoch(),
        s == null ? "OUT_OF_SYNC" : s.syncState().name(),
        s == null ? "DOWN" : s.link().name(),
        s == null ? "UNAVAILABLE" : s.availability().name(),
        resync,
        r.autoResync(),
        r.autoRecover(),
        r.resyncRate(),
        mediator(site, s),
        e.operation,
        e.problem,
        r.volumes().stream()
            .map(v -> new CgViews.Volume(v.name(), v.naa(), v.serial(), v.sizeBytes()))
            .toList());
  }
}
