package io.duet.node.cg;

import io.duet.node.cg.ConsistencyGroups.Entry;
import io.duet.sync.Mediator;
import io.duet.sync.ReplicatedVolume;
import io.duet.sync.SyncTimers;
import io.duet.sync.link.LinkChannels;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.UUID;

/**
 * Starts and stops one group's replication at this site and switches what hosts reach: refused I/O
 * while the group cannot serve yet, the replicated volumes while it runs, the local volumes once it
 * is gone. Called under the groups' lock.
 */
final class GroupRunner {
  private final GroupSite site;
  private final Clock clock;
  private final SyncTimers timers;
  private final GroupWatcher.InSync inSync;

  GroupRunner(GroupSite site, Clock clock, SyncTimers timers, GroupWatcher.InSync inSync) {
    this.site = site;
    this.clock = clock;
    this.timers = timers;
    this.inSync = inSync;
  }

  void run(Entry e) throws IOException {
    CgRecord r = e.record;
    // Until the replicator runs, this site cannot know it is current: no I/O, ALUA unavailable.
    fence(r);
    UUID peer = UUID.fromString(r.peerSiteId());
    LinkChannels channels =
        site.channels(peer)
            .orElseThrow(
                () ->
                    new IOException(
                        "no link to peer " + r.peerName() + " (not paired, or peering is off)"));
    GroupWatcher watcher = new GroupWatcher(site, r, () -> e.record.peer(), clock::millis, inSync);
    watcher.initial();
    UUID gid = UUID.fromString(r.id());
    ReplicatedGroup g;
    try {
      g =
          ReplicatedGroup.open(
              r,
              site.siteId(),
              site.store(),
              groupDir(r.id()),
              channels.open(gid),
              timers,
              watcher,
              site.unitState(r.volumes().stream().map(CgRecord.VolumeSpec::name).toList()),
              mediator(r));
    } catch (IOException | RuntimeException x) {
      channels.close(gid);
      throw x;
    }
    e.running = g;
    e.watcher = watcher;
    e.problem = null;
    List<ReplicatedVolume> rv = g.volumes();
    for (int i = 0; i < rv.size(); i++) {
      int index = i;
      String volume = r.volumes().get(i).name();
      site.serve(volume, rv.get(i));
      site.shareUnitState(volume, command -> g.replicator().executeShared(index, command));
    }
  }

  /**
   * Stops the group's replicator (if running). Its volumes refuse new I/O first, so what is in
   * flight finishes on the running replicator and hosts see "unavailable" (a path to try
   * elsewhere), not a closed replicator. With {@code release} they are then served locally again
   * (the group is gone); without, they keep refusing until it runs again, so no host write can slip
   * past replication (a restart, the node stopping).
   */
  void stop(Entry e, boolean release) {
    fence(e.record);
    ReplicatedGroup g = e.running;
    if (g != null) {
      e.running = null;
      e.watcher.retire();
      g.close();
      site.channels(UUID.fromString(e.record.peerSiteId()))
          .ifPresent(c -> c.close(UUID.fromString(e.record.id())));
    }
    if (!release) {
      return;
    }
    for (CgRecord.VolumeSpec v : e.record.volumes()) {
      site.shareUnitState(v.name(), null);
      site.serve(v.name(), null);
    }
    site.alua(e.record.volumes().stream().map(CgRecord.VolumeSpec::name).toList(), null);
  }

  /** The group's connection to this site's mediator (none when the site has none). */
  Mediator mediator(CgRecord r) {
    return site.mediator(
        UUID.fromString(r.id()),
        UUID.fromString(r.peerSiteId()),
        UUID.fromString(r.handedOver() ? r.preferredLeaderId() : r.sourceSiteId()));
  }

  /** Serves the group's volumes as not served here (I/O refused as unavailable). */
  private void fence(CgRecord r) {
    for (CgRecord.VolumeSpec v : r.volumes()) {
      site.store()
          .get(v.name())
          .ifPresent(
              lv ->
                  site.serve(
                      v.name(),
                      new NotServedVolume(
                          lv,
                          "consistency group " + r.name() + " is not running at " + site.name())));
    }
  }

  Path groupDir(String id) {
    return site.dataDir().resolve("cgs").resolve(id);
  }
}
