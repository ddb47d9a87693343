package io.duet.node.cg;

import io.duet.node.AdminException;
import io.duet.sync.ReplicationStatus;
import io.duet.sync.VerifyReport;
import io.duet.sync.dirty.DirtyMap;
import java.io.IOException;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The operator's actions on a running group at this site only: settings, verify, switchover, forced
 * failover and resync. Each waits (bounded) for the replicator and reports in events.
 */
final class GroupActions {
  private final ConsistencyGroups groups;
  private final Set<String> handoversRunning = ConcurrentHashMap.newKeySet();

  GroupActions(ConsistencyGroups groups) {
    this.groups = groups;
  }

  /** Changes the group's resync settings here (the replicator restarts with them). */
  CgViews.Group update(String name, Boolean autoResync, Boolean autoRecover, Long rate)
      throws IOException {
    if (rate != null && rate <= 0) {
      throw AdminException.invalid("resyncRate must be positive");
    }
    groups.lock.lock();
    try {
      ConsistencyGroups.Entry e = groups.find(name);
      CgRecord r = e.record;
      CgRecord next =
          r.withSettings(
              autoResync == null ? r.autoResync() : autoResync,
              autoRecover == null ? r.autoRecover() : autoRecover,
              rate == null ? r.resyncRate() : rate);
      if (!next.equals(r)) {
        // Durable first; the running replicator takes the new settings without a new session.
        groups.replace(e, next);
        ReplicatedGroup g = e.running;
        if (g != null) {
          g.replicator().updateSettings(ReplicatedGroup.settings(next));
        }
        groups.site.event(
            "cg.updated",
            name,
            "consistency group "
                + name
                + ": auto-resync "
                + next.autoResync()
                + ", auto-recover "
                + next.autoRecover()
                + ", resync rate "
                + next.resyncRate()
                + " B/s");
      }
      return GroupViews.view(groups.site, e);
    } finally {
      groups.lock.unlock();
    }
  }

  /** Runs {@code body} with the group's running operation shown as {@code what} (validate). */
  private <T> T operation(String name, String what, java.util.function.Supplier<T> body) {
    ConsistencyGroups.Entry e = groups.find(name);
    e.operation = what;
    try {
      return body.get();
    } finally {
      e.operation = null;
    }
  }

  CgViews.Verify verify(String name, boolean repair) {
    return operation(name, repair ? "verify --repair" : "verify", () -> runVerify(name, repair));
  }

  private CgViews.Verify runVerify(String name, boolean repair) {
    ReplicatedGroup g = groups.running(name);
    VerifyReport report = await(g.replicator().verify(repair), "verify");
    CgRecord r = groups.find(name).record;
    long region = DirtyMap.REGION_SIZE_DEFAULT_BYTES;
    List<CgViews.Region> regions =
        report.differing().stream()
            .map(
                d ->
                    new CgViews.Region(
                        r.volumes().get(d.volume()).name(), d.region() * region, region))
            .toList();
    groups.site.event(
        "cg.verify",
        name,
        "consistency group "
            + name
            + ": verify compared "
            + report.regionsCompared()
            + " regions, "
            + regions.size()
            + " differ"
            + (report.repairScheduled() ? ", repairing" : ""));
    return new CgViews.Verify(report.regionsCompared(), regions, report.repairScheduled());
  }

  CgViews.Group switchover(String name) {
    ReplicatedGroup g = groups.running(name);
    ReplicationStatus s = g.replicator().status();
    if (s.role() != ReplicationStatus.Role.LEADER) {
      throw AdminException.conflict(
          "this site does not lead group '" + name + "'; switch over at the leader");
    }
    if (s.syncState() != ReplicationStatus.SyncState.IN_SYNC) {
      throw AdminException.conflict(
          "group '" + name + "' is " + s.syncState() + "; switchover needs IN_SYNC");
    }
    operation(name, "switchover", () -> await(g.replicator().switchover(), "switchover"));
    groups.site.event(
        "cg.switchover", name, "consistency group " + name + ": leadership handed to the peer");
    return groups.get(name);
  }

  CgViews.Group failover(String name, boolean force, String reason) {
    if (!force) {
      throw AdminException.invalid(
          "forced failover makes this site lead although the peer is unreachable; writes the peer"
              + " acknowledged since losing contact are LOST. Repeat with \"force\": true to"
              + " proceed");
    }
    ReplicatedGroup g = groups.running(name);
    String why = reason == null || reason.isBlank() ? "operator forced failover" : reason;
    String how =
        operation(
            name,
            "forced failover",
            () -> await(g.replicator().forceFailover(why), "forced failover"));
    groups.site.event(
        "cg.forced-failover",
        name,
        "WARNING: consistency group "
            + name
            + " forced to fail over to "
            + groups.site.name()
            + " ("
            + why
            + "); data acknowledged by the peer"
            + " after the link was lost may be lost; "
            + how);
    return groups.get(name);
  }

  void resync(String name) {
    groups.running(name).replicator().resyncNow();
  }

  private static <T> T await(CompletableFuture<T> f, String what) {
    try {
      return f.get(ConsistencyGroups.OPERATION_TIMEOUT_MS, TimeUnit.MILLISECONDS);
    } catch (ExecutionException x) {
      Throwable c = x.getCause();
      throw AdminException.conflict(
          what + " failed: " + (c.getMessage() == null ? c.toString() : c.getMessage()));
    } catch (TimeoutException x) {
      throw AdminException.unavailable(
          what + " did not finish within " + ConsistencyGroups.OPERATION_TIMEOUT_MS + " ms");
    } catch (InterruptedException x) {
      Thread.currentThread().interrupt();
      throw AdminException.unavailable("interrupted while waiting for " + what);
    }
  }

  /** The preferred leader is the peer: hand over once, after the initial synchronization. */
  void leaderInSync(String groupId) {
    // Runs on the group's event loop: no lock here (an operator holding it may wait for the loop).
    ConsistencyGroups.Entry e = groups.entry(groupId);
    if (e == null
        || e.record.handedOver()
        || e.record.preferredLeaderId().equals(groups.site.siteId().toString())
        || e.running == null
        || groups.closed()
        || !handoversRunning.add(groupId)) {
      return;
    }
    ReplicatedGroup g = e.running;
    // Off the event loop: the switchover completes on it, and saving the record blocks.
    groups
        .workers()
        .execute(
            () -> {
              e.operation = "handover to the preferred leader";
              try {
                g.replicator()
                    .switchover()
                    .get(ConsistencyGroups.OPERATION_TIMEOUT_MS, TimeUnit.MILLISECONDS);
                groups.lock.lock();
                try {
                  ConsistencyGroups.Entry now = groups.entry(groupId);
                  if (now != null) {
                    now.record = now.record.withHandedOver();
                    groups.save();
                  }
                } finally {
                  groups.lock.unlock();
                }
                groups.site.event(
                    "cg.switchover",
                    e.record.name(),
                    "consistency group "
                        + e.record.name()
                        + ": initial synchronization done, leadership handed to the preferred"
                        + " leader");
              } catch (IOException | ExecutionException | TimeoutException x) {
                groups.site.event(
                    "cg.warning",
                    e.record.name(),
                    "handover to the preferred leader failed: " + x.getMessage());
              } catch (InterruptedException x) {
                Thread.currentThread().interrupt();
              } finally {
                e.operation = null;
                handoversRunning.remove(groupId);
              }
            });
  }
}
