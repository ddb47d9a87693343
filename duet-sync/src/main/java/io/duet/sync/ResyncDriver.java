package io.duet.sync;

import io.duet.sync.ConsistencyGroupReplicator.PeerState;
import io.duet.sync.proto.FrameCodec;
import io.duet.sync.proto.Message.DirtyDone;
import io.duet.sync.proto.Message.DirtyRegions;
import io.duet.sync.proto.Message.ResyncAck;
import io.duet.sync.proto.Message.ResyncData;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

/**
 * Resynchronization, always from the leader to the follower: the follower sends its dirty map at
 * the start of a session, the leader adds it to its own (durably) and copies every dirty region,
 * rate-limited on the injected clock, a bounded window at a time. A region's bit is cleared at each
 * site only once the follower has applied the copy, so an interrupted resync resumes where it
 * stopped. A copy reads the region through the sequencer, after the writes ordered before it and
 * before those ordered after, and is sent before any later write's order. Loop-confined.
 */
final class ResyncDriver {
  private final ConsistencyGroupReplicator g;
  private boolean expectingDirty;

  /** Leader: the peer's DirtyDone has arrived (the resync starts once its unions are durable). */
  private boolean peerDirtyDone;

  /** Leader: unions of the peer's dirty regions still being made durable on the I/O executor. */
  private int unionsPending;

  /**
   * Unions of a peer's dirty map still being made durable, whichever session asked for them: one
   * from an ended session still marks its regions, so a resync must not end before it lands
   * (simulation seed 1826731537889587169: a slow disk landed an old session's union after the next
   * session's resync had ended, leaving the leader IN_SYNC with dirty regions).
   */
  private int unionsInFlight;

  private boolean active;

  /** The copy waits for the leader's data to be durable (see start). */
  private boolean flushingFirst;

  private int flushGeneration;
  private int volume;
  private long cursor;
  private boolean wrapped;

  /** The copy is done but writes' regions are still being marked dirty (see coverLanded). */
  private boolean waitingForCovers;

  private final Set<Long> outstanding = new HashSet<>();
  private long nextFreeNanos;
  private long bytesDone;
  private long bytesTotal;
  private volatile long bytesCopiedEver; // written on the loop only
  private SyncTimers.Cancellable wake;

  /** The operator asked for a resync / for recovery before it could happen; honoured later. */
  private boolean startRequested;

  private boolean recoverRequested;

  ResyncDriver(ConsistencyGroupReplicator g) {
    this.g = g;
  }

  long bytesDone() {
    return bytesDone;
  }

  String describe() {
    return "active="
        + active
        + " expecting="
        + expectingDirty
        + " outstanding="
        + outstanding
        + " volume="
        + volume
        + " cursor="
        + cursor;
  }

  /** Bytes of regions copied and acknowledged since this replicator started (tests, metrics). */
  long bytesCopiedEver() {
    return bytesCopiedEver;
  }

  long bytesTotal() {
    return bytesTotal;
  }

  long etaSeconds() {
    if (!active) {
      return -1;
    }
    return Math.max(0, bytesTotal - bytesDone) / g.settings.resyncBytesPerSecond();
  }

  // ---- follower side

  /** Follower, session start: tell the leader every region that may differ here. */
  void sendOwnDirtyMap() {
    for (int v = 0; v < g.volumes.size(); v++) {
      io.duet.sync.dirty.DirtyRegions map = g.volumes.get(v).dirty();
      long[] chunk = new long[Math.min(FrameCodec.MAX_LIST_ENTRIES, 4096)];
      int n = 0;
      for (long r = map.nextDirty(0); r >= 0; r = map.nextDirty(r + 1)) {
        chunk[n++] = r;
        if (n == chunk.length) {
          g.send(new DirtyRegions(v, chunk.clone()));
          n = 0;
        }
      }
      if (n > 0) {
        g.send(new DirtyRegions(v, Arrays.copyOf(chunk, n)));
      }
    }
    g.send(new DirtyDone());
  }

  // ---- leader side

  void expectPeerDirty() {
    stop();
    expectingDirty = true;
  }

  void onPeerDirty(DirtyRegions m) {
    if (!g.isLeader() || !expectingDirty || m.volume() >= g.volumes.size()) {
      return;
    }
    io.duet.sync.dirty.DirtyRegions map = g.volumes.get(m.volume()).dirty();
    unionsPending++;
    unionsInFlight++;
    int at = g.sessionNo();
    // The union is made durable off the loop (markDirty fdatasyncs); the resync waits for it.
    g.runIo(
        () -> union(map, m.regions()),
        err -> {
          unionsInFlight--;
          if (g.sessionNo() != at || !expectingDirty) {
            coverLanded(); // a resync of a later session may be waiting for these marks
            return; // a new session asks for the peer's map again
          }
          unionsPending--;
          if (err != null) {
            g.listener.onWarning("cannot record the peer's dirty regions: " + err.getMessage());
            g.restartSession("dirty map union failed");
          } else {
            startAfterUnion();
          }
        });
  }

  /** Marks the peer's (ascending) dirty regions here; a run of regions costs one mark. */
  private static void union(io.duet.sync.dirty.DirtyRegions map, long[] r) throws IOException {
    long size = map.regionSizeBytes();
    for (int i = 0; i < r.length; ) {
      int j = i;
      while (j + 1 < r.length && r[j + 1] == r[j] + 1) {
        j++;
      }
      if (r[i] < map.regionCount()) {
        long end = Math.min(r[j] + 1, map.regionCount());
        map.markDirty(r[i] * size, (end - r[i]) * size);
      }
      i = j + 1;
    }
  }

  void onPeerDirtyDone() {
    if (!g.isLeader() || !expectingDirty) {
      return;
    }
    peerDirtyDone = true;
    startAfterUnion();
  }

  private void startAfterUnion() {
    if (expectingDirty && peerDirtyDone && unionsPending == 0) {
      expectingDirty = false;
      start(g.settings.autoResync() || startRequested);
    }
  }

  /** Operator: resync now, or as soon as the dirty maps have been exchanged. */
  void requestStart() {
    startRequested = true;
    start(true);
  }

  /** Starts copying (when {@code allowed}); finishes at once if nothing is dirty. */
  void start(boolean allowed) {
    if (!allowed || active || !g.isLeader() || g.peerState != PeerState.SYNCING || expectingDirty) {
      return;
    }
    active = true;
    startRequested = false;
    volume = 0;
    cursor = 0;
    wrapped = false;
    bytesDone = 0;
    recount();
    nextFreeNanos = g.now();
    if (!g.power.alone()) {
      pump();
      return;
    }
    // A leader that went on alone wrote regions without FUA: the copies it sends would otherwise
    // come from its page cache, and a power loss here would leave the follower durably holding
    // writes this site then lacks, while this copy still wins the next resync (simulation seed
    // 2006088833514613305). Durable first, then copied; later writes are FUA (LeaderPipeline).
    int at = g.sessionNo();
    flushingFirst = true;
    int gen = ++flushGeneration;
    g.runIo(
        () -> {
          for (VolumeReplica v : g.volumes) {
            v.local().flush();
          }
        },
        err -> {
          if (gen != flushGeneration) {
            return; // a later start flushes again and owns the flag
          }
          flushingFirst = false;
          if (g.sessionNo() != at || !active) {
            return;
          }
          if (err != null) {
            g.listener.onWarning("cannot make this copy durable before the resync: " + err);
            g.restartSession("flush before the resync failed");
            return;
          }
          pump();
        });
  }

  /**
   * Total = copied so far + still dirty (the union of both sites' maps, which the leader's map
   * holds by now; regions in flight are still dirty until acknowledged). Counted at the start and
   * at every rescan, never per region: the count scans the whole bitmap.
   */
  private void recount() {
    long dirtyBytes = 0;
    for (VolumeReplica v : g.volumes) {
      dirtyBytes += v.dirty().dirtyCount() * v.dirty().regionSizeBytes();
    }
    bytesTotal = bytesDone + dirtyBytes;
  }

  /**
   * The settings changed (see {@link ConsistencyGroupReplicator#updateSettings}): a new rate
   * applies from the next copy (a wake-up timed at the old rate is cut short), and turning on
   * auto-resync or auto-recover acts now if the resync was waiting for the operator.
   */
  void settingsChanged(SyncSettings before) {
    SyncSettings now = g.settings;
    if (now.resyncBytesPerSecond() != before.resyncBytesPerSecond() && wake != null) {
      wake.cancel();
      wake = null;
      nextFreeNanos = g.now();
    }
    if (now.autoResync() && !before.autoResync()) {
      start(true);
    }
    if (now.autoRecover()
        && !before.autoRecover()
        && g.isLeader()
        && g.peerState == PeerState.SYNCING
        && !active
        && !expectingDirty
        && allClean()) {
      g.followerRecovered();
    }
    pump();
  }

  void stop() {
    // A new session counts afresh: what an earlier resync copied (the initial synchronization,
    // say) is no part of the next one's progress.
    bytesDone = 0;
    bytesTotal = 0;
    active = false;
    waitingForCovers = false;
    expectingDirty = false;
    peerDirtyDone = false;
    unionsPending = 0;
    outstanding.clear();
    if (wake != null) {
      wake.cancel();
      wake = null;
    }
  }

  /** Operator's go-ahead when autoRecover is off. */
  void recover() {
    recoverRequested = true;
    if (g.isLeader()
        && g.peerState == PeerState.SYNCING
        && !active
        && !expectingDirty
        && allClean()) {
      recoverRequested = false;
      g.followerRecovered();
    }
  }

  private void pump() {
    if (flushingFirst) {
      return;
    }
    while (active && outstanding.size() < g.settings.resyncWindowRegions()) {
      long now = g.now();
      if (now - nextFreeNanos < 0) {
        if (wake == null) {
          wake = g.timers.schedule(nextFreeNanos - now, () -> g.post(this::woken));
        }
        return;
      }
      long region = nextRegion();
      if (region < 0) {
        if (outstanding.isEmpty()) {
          finish();
        }
        return;
      }
      copy(volume, region);
    }
  }

  private void woken() {
    wake = null;
    pump();
  }

  /** The next dirty region not already in flight, scanning volumes in order, or -1. */
  private long nextRegion() {
    while (volume < g.volumes.size()) {
      io.duet.sync.dirty.DirtyRegions map = g.volumes.get(volume).dirty();
      long r = map.nextDirty(cursor);
      while (r >= 0 && outstanding.contains(key(volume, r))) {
        r = map.nextDirty(r + 1);
      }
      if (r >= 0) {
        cursor = r + 1;
        return r;
      }
      volume++;
      cursor = 0;
    }
    if (!wrapped && !allClean()) {
      // Regions that became dirty behind the cursor (a union arriving late): one more pass.
      wrapped = true;
      recount();
      volume = 0;
      cursor = 0;
      return nextRegion();
    }
    return -1;
  }

  private void copy(int vol, long region) {
    VolumeReplica v = g.volumes.get(vol);
    long size = v.dirty().regionSizeBytes();
    long offset = region * size;
    int length = (int) Math.min(size, v.local().sizeBytes() - offset);
    outstanding.add(key(vol, region));
    nextFreeNanos =
        Math.max(nextFreeNanos, g.now())
            + length * 1_000_000_000L / g.settings.resyncBytesPerSecond();
    int at = g.sessionNo();
    RangeSequencer seq = g.sequencer(vol);
    RangeSequencer.Entry[] slot = new RangeSequencer.Entry[1];
    ByteBuffer data = ByteBuffer.allocate(Math.max(length, 0));
    slot[0] =
        seq.enqueue(
            offset,
            length,
            true,
            () ->
                g.runIo(
                    () -> v.local().read(offset, data),
                    err -> {
                      // Send before releasing: a later write's order must follow this copy.
                      if (g.sessionNo() == at && active) {
                        if (err != null) {
                          g.listener.onWarning("resync read failed: " + err.getMessage());
                          g.restartSession("resync read failed");
                        } else {
                          g.send(new ResyncData(vol, region, data.array()));
                        }
                      }
                      seq.release(slot[0]);
                    }));
  }

  void onAck(ResyncAck m) {
    if (!active || !outstanding.remove(key(m.volume(), m.region()))) {
      return;
    }
    VolumeReplica v = g.volumes.get(m.volume());
    v.dirty().markClean(m.region());
    bytesDone += v.dirty().regionSizeBytes();
    bytesCopiedEver += v.dirty().regionSizeBytes();
    bytesTotal = Math.max(bytesTotal, bytesDone); // a region dirtied again after the count
    pump();
  }

  /** A write's region was marked dirty (or failed to be): a resync waiting for it goes on. */
  void coverLanded() {
    if (active && waitingForCovers && !marksPending()) {
      waitingForCovers = false;
      rescan();
    }
  }

  private void rescan() {
    recount();
    wrapped = false;
    volume = 0;
    cursor = 0;
    g.post(this::pump);
  }

  /** Whether regions are still being marked dirty here (writes' covers, a peer map's union). */
  private boolean marksPending() {
    return g.leader.coversPending() || unionsInFlight > 0;
  }

  private void finish() {
    if (marksPending()) {
      // Writes the follower may lack are being marked dirty: their regions must be copied too,
      // so the resync ends only after those marks (coverLanded() scans again).
      waitingForCovers = true;
      return;
    }
    if (!allClean()) {
      rescan(); // a region turned dirty after the scan passed it: from the loop (no recursion)
      return;
    }
    active = false;
    int at = g.sessionNo();
    g.runIo(
        () -> {
          for (VolumeReplica v : g.volumes) {
            v.dirty().sync();
          }
        },
        err -> {
          if (g.sessionNo() != at || g.peerState != PeerState.SYNCING) {
            return;
          }
          if (err != null) {
            g.listener.onWarning("cannot persist the resync's progress: " + err.getMessage());
          }
          if (!allClean()) {
            active = true; // marked dirty while the map was synced: copy those regions first
            rescan();
            return;
          }
          if (g.settings.autoRecover() || recoverRequested) {
            recoverRequested = false;
            g.followerRecovered();
          }
        });
  }

  /** No region dirty and none about to be: the follower holds everything the leader does. */
  private boolean allClean() {
    if (g.leader.coversPending()) {
      return false;
    }
    for (VolumeReplica v : g.volumes) {
      if (v.dirty().dirtyCount() > 0) {
        return false;
      }
    }
    return true;
  }

  private static long key(int volume, long region) {
    return ((long) volume << 48) | region;
  }
}
