package io.duet.node.cg;

import io.duet.scsi.UnitAlua;
import io.duet.sync.ReplicationListener;
import io.duet.sync.ReplicationStatus;
import io.duet.sync.ReplicationStatus.LinkState;
import io.duet.sync.ReplicationStatus.Role;
import io.duet.sync.ReplicationStatus.SyncState;
import java.util.List;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Turns one group's replication status into what the site shows: events ({@code cg.state}, {@code
 * cg.link.up/down}, {@code cg.resync.progress} at most every {@link #PROGRESS_INTERVAL_MS}, {@code
 * cg.resync.done}, warnings) and the ALUA base states of both sites' port groups. Runs on the
 * group's event loop, so it must not block: the ALUA update and event append are quick local calls.
 */
final class GroupWatcher implements ReplicationListener {
  static final long PROGRESS_INTERVAL_MS = 5_000;

  /**
   * Told when the group is first in sync with this site leading (the preferred-leader handover).
   */
  interface InSync {
    void leaderInSync(String groupId);
  }

  private final GroupSite site;
  private final String groupId;
  private final String name;
  private final List<String> volumes;
  private final Supplier<SiteInfo> peer;
  private final LongSupplier millis;
  private final InSync inSync;
  private ReplicationStatus last;
  private boolean retired;
  private long lastProgressMs = Long.MIN_VALUE;

  /**
   * @param peer the peer's ports as this site knows them now (refreshed when its link comes up)
   */
  GroupWatcher(
      GroupSite site, CgRecord r, Supplier<SiteInfo> peer, LongSupplier millis, InSync inSync) {
    this.site = site;
    this.groupId = r.id();
    this.name = r.name();
    this.volumes = r.volumes().stream().map(CgRecord.VolumeSpec::name).toList();
    this.peer = peer;
    this.millis = millis;
    this.inSync = inSync;
  }

  /** The states before the replicator's first status: nothing served until a session proves it. */
  void initial() {
    site.alua(
        volumes,
        new GroupSite.AluaStates(
            site.info(), UnitAlua.BaseState.UNAVAILABLE, peer.get(), UnitAlua.BaseState.ACTIVE));
  }

  /** The group is stopping: its last status changes (session closed) are not news. */
  synchronized void retire() {
    retired = true;
  }

  @Override
  public synchronized void onStatus(ReplicationStatus s) {
    if (retired) {
      return;
    }
    ReplicationStatus before = last;
    last = s;
    if (before == null
        || before.availability() != s.availability()
        || before.role() != s.role()
        || before.syncState() != s.syncState()
        || before.link() != s.link()) {
      site.alua(volumes, states(s));
    }
    if (before != null && before.link() != s.link()) {
      boolean up = s.link() == LinkState.UP;
      site.event(
          up ? "cg.link.up" : "cg.link.down",
          name,
          "consistency group " + name + ": session with the peer " + (up ? "up" : "down"));
    }
    if (before == null
        || before.role() != s.role()
        || before.syncState() != s.syncState()
        || before.availability() != s.availability()) {
      site.event(
          "cg.state",
          name,
          "consistency group "
              + name
              + ": "
              + s.role()
              + ", "
              + s.syncState()
              + ", "
              + s.availability()
              + " (epoch "
              + s.epoch()
              + ")");
    }
    progress(before, s);
    mediator(before, s);
    if (s.role() == Role.LEADER && s.syncState() == SyncState.IN_SYNC) {
      inSync.leaderInSync(groupId);
    }
  }

  private void progress(ReplicationStatus before, ReplicationStatus s) {
    boolean resyncing = s.syncState() == SyncState.RESYNCING;
    if (before != null
        && before.syncState() == SyncState.RESYNCING
        && s.syncState() == SyncState.IN_SYNC) {
      site.event(
          "cg.resync.done",
          name,
          "consistency group " + name + ": resync done, in sync with the peer");
      return;
    }
    long now = millis.getAsLong();
    if (resyncing
        && s.resyncBytesTotal() > 0
        && (lastProgressMs == Long.MIN_VALUE || now - lastProgressMs >= PROGRESS_INTERVAL_MS)) {
      lastProgressMs = now;
      site.event(
          "cg.resync.progress",
          name,
          String.format(
              java.util.Locale.ROOT,
              "consistency group %s: resync %.1f %% (%d of %d bytes, ETA %d s)",
              name,
              GroupViews.percent(s),
              s.resyncBytesDone(),
              s.resyncBytesTotal(),
              s.resyncEtaSeconds()));
    }
  }

  /**
   * {@code cg.mediator.connected} when this site's contact with the mediator comes (back), {@code
   * cg.mediator.lost} when it goes while a mediator is configured (automatic failover is off
   * meanwhile; the leader stays the pre-elected survivor).
   */
  private void mediator(ReplicationStatus before, ReplicationStatus s) {
    boolean was = before != null && connected(before.mediator());
    boolean now = connected(s.mediator());
    if (was == now || (!now && !s.mediator().configured())) {
      return;
    }
    site.event(
        now ? "cg.mediator.connected" : "cg.mediator.lost",
        name,
        "consistency group "
            + name
            + (now
                ? ": mediator connected" + (s.mediator().inQuorum() ? ", in quorum" : "")
                : ": mediator lost, automatic failover is off until it returns ("
                    + s.mediator().lastMessage()
                    + ")"));
  }

  private static boolean connected(ReplicationStatus.MediatorStatus m) {
    return m != null && m.configured() && m.connected();
  }

  @Override
  public synchronized void onWarning(String message) {
    if (retired) {
      return;
    }
    site.event("cg.warning", name, "consistency group " + name + ": " + message);
  }

  /**
   * This site's group is active when it serves, transitioning while the mediator decides whether it
   * may go on alone (hosts get 02/04/0A and retry), else unavailable. The peer's, as this site
   * knows it: a leader knows its follower serves only while in sync over a live session; a follower
   * assumes the leader serves (it keeps serving on a link failure).
   */
  static GroupSite.AluaStates states(ReplicationStatus s, SiteInfo local, SiteInfo peer) {
    UnitAlua.BaseState here =
        switch (s.availability()) {
          case SERVING -> UnitAlua.BaseState.ACTIVE;
          case TRANSITIONING -> UnitAlua.BaseState.TRANSITIONING;
          case UNAVAILABLE -> UnitAlua.BaseState.UNAVAILABLE;
        };
    return new GroupSite.AluaStates(
        local,
        here,
        peer,
        peerServes(s) ? UnitAlua.BaseState.ACTIVE : UnitAlua.BaseState.UNAVAILABLE);
  }

  /** Whether the peer serves, as this site can tell from its own status. */
  static boolean peerServes(ReplicationStatus s) {
    return s.role() == Role.FOLLOWER
        || (s.syncState() == SyncState.IN_SYNC && s.link() == LinkState.UP);
  }

  private GroupSite.AluaStates states(ReplicationStatus s) {
    return states(s, site.info(), peer.get());
  }
}
