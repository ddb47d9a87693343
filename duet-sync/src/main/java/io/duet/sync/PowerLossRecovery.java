package io.duet.sync;

import io.duet.sync.ConsistencyGroupReplicator.PeerState;
import io.duet.sync.dirty.ActivityLog;
import java.io.IOException;
import java.util.List;

/**
 * Which copy wins the next resync after a crash. Writes are acknowledged once both sites applied
 * them to their page cache, so a power loss (a new boot) can take acknowledged writes from one site
 * that the other still holds. The rules, each durable in the {@link EpochStore}:
 *
 * <ul>
 *   <li>A site restarted after a crash first makes its page cache durable (after a process crash it
 *       still holds everything), then forgets its activity-log extents (marked dirty).
 *   <li>A site that lost power while it was not leading alone is <em>stale</em> until its peer has
 *       resynced it; it says so in its hellos, and a stale leader hands the leadership to a peer
 *       that is not stale, so the copy that holds every acknowledged write leads the resync.
 *   <li>Both stale (each lost power since they were last in sync, neither leading alone): what a
 *       FLUSH or FUA covered is durable in both copies, and that is all a host was promised by a
 *       storage system that lost power everywhere, so the leader stays and resyncs its copy.
 *   <li>A leader going on alone first makes its data durable and records that it is alone: from
 *       then on its copy is the newer one everywhere, power loss or not, until its follower is back
 *       in sync.
 * </ul>
 *
 * Loop-confined once the replicator runs.
 */
final class PowerLossRecovery {
  private final ConsistencyGroupReplicator g;
  private final EpochStore epochs;

  /** A {@link #quiesce} round is running. */
  private boolean quiescing;

  PowerLossRecovery(ConsistencyGroupReplicator g, EpochStore epochs) {
    this.g = g;
    this.epochs = epochs;
  }

  /**
   * Before the replicator runs: marks the extents the activity logs held at an unclean stop dirty
   * and makes their data durable; returns whether the stop was unclean. The logs keep the extents
   * until {@link #releaseActivityLogs}, after {@link #recordBoot} has made the staleness a power
   * loss caused durable: a crash in between finds them again.
   */
  static boolean recoverActivityLogs(List<VolumeReplica> volumes) throws IOException {
    boolean unclean = false;
    for (VolumeReplica v : volumes) {
      boolean active = false;
      for (ActivityLog.Range r : v.activity().activeAtOpen()) {
        active = true;
        v.dirty().markDirty(r.offset(), r.length());
      }
      if (active) {
        // After a process crash the page cache still holds what was written there: durable
        // now, before the log forgets those extents, or a later power loss would take data no
        // record points to any more (the resync cleans the dirty marks, not the cache).
        v.local().flush();
        unclean = true;
      }
    }
    return unclean;
  }

  /** Before the replicator runs, after {@link #recordBoot}: the logs forget their old extents. */
  static void releaseActivityLogs(List<VolumeReplica> volumes) throws IOException {
    for (VolumeReplica v : volumes) {
      v.activity().releaseActiveAtOpen();
    }
  }

  /**
   * Before the replicator runs: records whether this boot is a new one and whether that makes this
   * site stale; returns what to tell the operator, or null.
   */
  static String recordBoot(EpochStore epochs, String boot, boolean unclean) throws IOException {
    EpochStore.State at = epochs.current();
    boolean cacheLost = unclean && (boot.isEmpty() || !boot.equals(at.bootId()));
    boolean stale = at.stale() || cacheLost && !at.alone();
    if (stale != at.stale() || !boot.equals(at.bootId())) {
      epochs.persist(new EpochStore.State(at.epoch(), at.leaderId(), stale, at.alone(), boot));
    }
    if (!cacheLost) {
      return null;
    }
    return "restarted after a power loss (new boot)"
        + (stale
            ? "; the peer holds every acknowledged write and will resync this site"
            : at.alone() ? "; this site led alone: its durable copy is the newer one" : "");
  }

  /** This site led alone since its follower was last in sync: its copy is the newer one. */
  boolean alone() {
    return epochs.current().alone();
  }

  /** This site must not lead or serve before its peer has resynced it. */
  boolean stale() {
    return epochs.current().stale();
  }

  /** The peer has resynced this site (or an operator forced it to lead): it is current. */
  void clearStale() {
    if (stale()) {
      try {
        epochs.persist(epochs.current().withStale(false));
      } catch (IOException e) {
        // Still stale on record: at worst a later session hands the leadership back once more.
        g.listener.onWarning("cannot record the end of the resync after a power loss: " + e);
      }
    }
  }

  /**
   * A session is up at the leader: if this site is stale and its peer is not, hands the leadership
   * to the peer; returns whether it does (both stale: the leader stays). The handover runs after
   * the handshake that called this.
   */
  boolean handBackIfStale() {
    if (!g.isLeader() || !stale() || g.session.peerStale()) {
      return false;
    }
    int at = g.session.number();
    g.post(
        () -> {
          if (g.session.number() == at && g.session.up() && g.isLeader() && stale()) {
            g.listener.onWarning(
                "this site lost power while its peer held every acknowledged write: the peer"
                    + " leads at epoch "
                    + (g.epoch() + 1)
                    + " and resynchronizes this site");
            // A new epoch naming the peer, then a session in which the peer collects our map
            // (our activity-log regions) and resyncs us.
            g.persistEpoch(g.epoch() + 1, g.peerId);
            g.provenCurrent = false;
            g.peerState = PeerState.ABSENT;
            g.restartSession("leadership handed to the peer after a power loss");
          }
        });
    return true;
  }

  /**
   * Before the first write the follower will lack: what was replicated until now becomes durable
   * here, and the record says this copy is the newer one (whatever staleness it carried no longer
   * decides the next resync). Rare, and both must hold before anything is acknowledged alone, so on
   * the loop.
   */
  void recordAlone() {
    if (epochs.current().alone()) {
      return;
    }
    try {
      for (VolumeReplica v : g.volumes) {
        v.local().flush();
      }
      epochs.persist(epochs.current().withAlone(true).withStale(false));
    } catch (IOException e) {
      g.stop("cannot record going on alone, replicator stopped: " + e);
      throw new IllegalStateException("alone state not persisted", e);
    }
  }

  /**
   * Follower, its session lost: it serves nothing now and may be the only site holding writes its
   * leader acknowledged (if the leader went down). Making them durable and emptying the activity
   * logs means a power loss here from now on takes nothing, so a restart is not stale and its copy
   * can lead the resync if the leader comes back stale (simulation seed 7432788963556656879: both
   * sites came back stale and the leader's torn copy overwrote the follower's intact one).
   */
  void quiesce() {
    if (quiescing) {
      return;
    }
    quiescing = true;
    boolean[] empty = {true};
    g.runIo(
        () -> {
          for (VolumeReplica v : g.volumes) {
            empty[0] &= v.activity().releaseIdle();
          }
        },
        err -> {
          quiescing = false;
          if (err != null) {
            // Nothing lost: the extents stay recorded, a power loss makes this site stale.
            g.listener.onWarning("cannot make this copy durable after the session: " + err);
          } else if (!empty[0] || g.follower.applying() > 0) {
            // Writes of the ended session still applying, or their dirty marks pending (their
            // data follows the flush): again a heartbeat later, while no session is up. Cheap
            // when nothing became idle (no I/O).
            g.timers.schedule(
                g.settings.heartbeatIntervalMs() * 1_000_000L,
                () ->
                    g.post(
                        () -> {
                          if (!g.sessionUp() && !g.isLeader()) {
                            quiesce();
                          }
                        }));
          }
        });
  }

  /** The follower is back in sync: both copies agree again. */
  void recordInSync() {
    // A stale leader (both sites came back stale) that has resynced its follower holds what the
    // follower holds now: stale no longer. Kept, the flag would outlive a switchover and make a
    // later power loss of the new leader look like the only stale copy's (simulation seed
    // 449569953479088104: that leader kept its older copy and acknowledged writes were lost).
    EpochStore.State at = epochs.current();
    if (at.alone() || at.stale()) {
      try {
        epochs.persist(at.withAlone(false).withStale(false));
      } catch (IOException e) {
        // Still marked alone: a later power loss keeps this site's copy, as while resyncing.
        g.listener.onWarning("cannot record being in sync again: " + e.getMessage());
      }
    }
  }
}
