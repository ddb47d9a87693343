package io.duet.sync;

import io.duet.sync.UnavailableException.Reason;
import io.duet.sync.digest.RegionDigests;
import io.duet.sync.proto.Message.CompareAndWriteMismatch;
import io.duet.sync.proto.Message.CompareAndWriteRequest;
import io.duet.sync.proto.Message.DigestRequest;
import io.duet.sync.proto.Message.DigestResponse;
import io.duet.sync.proto.Message.ForwardedWrite;
import io.duet.sync.proto.Message.OrderedWrite;
import io.duet.sync.proto.Message.Refusal;
import io.duet.sync.proto.Message.RequestRefused;
import io.duet.sync.proto.Message.ResyncAck;
import io.duet.sync.proto.Message.ResyncData;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The follower's side: forwards its hosts' writes and compare-and-writes to the leader, applies the
 * leader's ordered writes and resync copies in arrival order (overlapping ones strictly in
 * sequence, through the volume's {@link RangeSequencer}), and keeps reads of a leader-issued
 * write's range waiting until the leader reports it committed at both sites. Loop-confined.
 */
final class FollowerPipeline {
  private final ConsistencyGroupReplicator g;

  /** Host requests sent to the leader, by request id. */
  private final Map<Long, HostRequest> forwarded = new HashMap<>();

  /** Leader-issued writes applied here and not yet committed, by sequence number. */
  private final Map<Long, Applied> uncommitted = new HashMap<>();

  private record Applied(int volume, long offset, long length, RangeSequencer.Entry slot) {}

  /** Resync regions written here and not yet durable; acknowledged after the next flush. */
  private final List<ResyncAck> notDurable = new ArrayList<>();

  /** Ordered writes enqueued and not yet applied (see {@link #applying}). */
  private int applying;

  /** Uncommitted writes of ended sessions being marked dirty. */
  private int marking;

  /** What waits for {@link #whenSettled}, or null. */
  private Runnable whenSettled;

  /** A flush of resync regions is running (one at a time; later regions wait for the next). */
  private boolean resyncFlushing;

  FollowerPipeline(ConsistencyGroupReplicator g) {
    this.g = g;
  }

  void forward(HostRequest r) {
    long id = g.newRequestId();
    forwarded.put(id, r);
    boolean sent =
        r.type == HostRequest.Type.COMPARE_AND_WRITE
            ? g.send(new CompareAndWriteRequest(id, r.volume, r.offset, r.fua, r.expected, r.data))
            : g.send(
                new ForwardedWrite(
                    id,
                    r.volume,
                    r.offset,
                    r.length,
                    r.kind,
                    r.fua,
                    r.kind.carriesData() ? r.data : new byte[0]));
    if (!sent && forwarded.remove(id) != null) {
      r.done.completeExceptionally(
          new UnavailableException(Reason.PEER_LOST, "cannot reach the leader"));
    }
  }

  void onOrderedWrite(OrderedWrite m) {
    if (g.isLeader() || m.volume() >= g.volumes.size()) {
      g.restartSession("ordered write for a leader or an unknown volume");
      return;
    }
    RangeSequencer seq = g.sequencer(m.volume());
    RangeSequencer.Entry[] slot = new RangeSequencer.Entry[1];
    int at = g.sessionNo();
    VolumeReplica v = g.volumes.get(m.volume());
    applying++;
    slot[0] =
        seq.enqueue(
            m.offset(),
            m.length(),
            false,
            () ->
                g.runIo(
                    () -> {
                      v.activity().beginWrite(m.offset(), m.length());
                      LocalApply.apply(
                          v.local(), m.offset(), m.length(), m.kind(), m.fua(), m.data());
                    },
                    err -> applied(m, slot[0], at, err)));
  }

  private void applied(OrderedWrite m, RangeSequencer.Entry slot, int at, IOException err) {
    applying--;
    settled();
    VolumeReplica v = g.volumes.get(m.volume());
    if (err == null && g.sessionNo() != at) {
      // Applied here after the session ended: the leader may never have written it (see
      // sessionLost), so the region differs until a resync says otherwise.
      markDirtyThenRelease(new Applied(m.volume(), m.offset(), m.length(), slot));
      return;
    }
    if (err != null) {
      v.activity().endWrite(m.offset(), m.length());
      g.sequencer(m.volume()).release(slot);
      if (g.sessionNo() == at) {
        g.listener.onWarning("cannot apply the leader's write: " + err.getMessage());
        g.restartSession("local write failed");
      }
      return;
    }
    g.acks.applied(m.seq());
    HostRequest mine = m.originRequest() == 0 ? null : forwarded.remove(m.originRequest());
    if (m.originRequest() != 0) {
      // The leader applied it before ordering it: it is at both sites now.
      v.activity().endWrite(m.offset(), m.length());
      g.sequencer(m.volume()).release(slot);
      if (mine != null) {
        mine.done.complete(-1L);
      }
    } else {
      uncommitted.put(m.seq(), new Applied(m.volume(), m.offset(), m.length(), slot));
    }
  }

  /** Ordered writes of this or an ended session still being applied here. */
  int applying() {
    return applying;
  }

  /**
   * Runs {@code then} (in this session) once no write is being applied here and every write an
   * ended session left uncommitted is marked dirty: the dirty map sent to a new leader must name
   * them, or the regions they changed here are never resynced.
   */
  void whenSettled(Runnable then) {
    int at = g.sessionNo();
    whenSettled =
        () -> {
          if (g.sessionNo() == at) {
            then.run();
          }
        };
    settled();
  }

  private void settled() {
    if (whenSettled != null && applying == 0 && marking == 0) {
      Runnable r = whenSettled;
      whenSettled = null;
      r.run();
    }
  }

  void onCommitted(long seq) {
    Applied a = uncommitted.remove(seq);
    if (a != null) {
      g.volumes.get(a.volume()).activity().endWrite(a.offset(), a.length());
      g.sequencer(a.volume()).release(a.slot());
    }
  }

  void onRefused(RequestRefused m) {
    HostRequest r = forwarded.remove(m.requestId());
    if (r == null) {
      return;
    }
    if (m.reason() == Refusal.NOT_LEADER && g.isLeader()) {
      g.submit(r); // a switchover made us the leader meanwhile
    } else if (m.reason() == Refusal.IO_ERROR) {
      r.done.completeExceptionally(new IOException("the leader's local write failed"));
    } else {
      r.done.completeExceptionally(
          new UnavailableException(Reason.OUT_OF_SYNC, "the leader refused: " + m.reason()));
    }
  }

  void onCompareAndWriteMismatch(CompareAndWriteMismatch m) {
    HostRequest r = forwarded.remove(m.requestId());
    if (r != null) {
      r.done.complete(m.mismatchOffset());
    }
  }

  void onResyncData(ResyncData m) {
    if (g.isLeader() || m.volume() >= g.volumes.size()) {
      g.restartSession("resync data for a leader or an unknown volume");
      return;
    }
    VolumeReplica v = g.volumes.get(m.volume());
    long offset = m.region() * v.dirty().regionSizeBytes();
    int at = g.sessionNo();
    RangeSequencer seq = g.sequencer(m.volume());
    RangeSequencer.Entry[] slot = new RangeSequencer.Entry[1];
    slot[0] =
        seq.enqueue(
            offset,
            m.data().length,
            false,
            () ->
                g.runIo(
                    () -> v.local().write(offset, ByteBuffer.wrap(m.data()), false),
                    err -> {
                      seq.release(slot[0]);
                      if (g.sessionNo() != at) {
                        return;
                      }
                      if (err != null) {
                        g.restartSession("cannot apply resync data: " + err.getMessage());
                      } else {
                        notDurable.add(new ResyncAck(m.volume(), m.region()));
                        flushResync();
                      }
                    }));
  }

  /**
   * Makes the resync regions written so far durable, then cleans and acknowledges them: the leader
   * clears its dirty bit on the acknowledgement, so a power loss here after it must not lose the
   * copy. Regions written while a flush runs share the next one (group commit).
   */
  private void flushResync() {
    if (resyncFlushing || notDurable.isEmpty()) {
      return;
    }
    List<ResyncAck> batch = new ArrayList<>(notDurable);
    notDurable.clear();
    resyncFlushing = true;
    int at = g.sessionNo();
    TreeSet<Integer> touched = new TreeSet<>();
    batch.forEach(a -> touched.add(a.volume()));
    g.runIo(
        () -> {
          for (int vol : touched) {
            g.volumes.get(vol).local().flush();
          }
          for (ResyncAck a : batch) {
            g.volumes.get(a.volume()).dirty().markClean(a.region());
          }
        },
        err -> {
          resyncFlushing = false;
          if (g.sessionNo() != at) {
            flushResync(); // a new session's regions may be waiting for this flush to end
            return;
          }
          if (err != null) {
            g.restartSession("cannot make resync data durable: " + err.getMessage());
            return;
          }
          batch.forEach(g::send);
          flushResync();
        });
  }

  /**
   * The leader has copied every dirty region: once the copies and the cleaned dirty map are
   * durable, this site serves again (after the leader's next lease grant).
   */
  void onResyncDone() {
    if (g.isLeader()) {
      return;
    }
    int at = g.sessionNo();
    g.runIo(
        () -> {
          for (VolumeReplica v : g.volumes) {
            v.local().flush();
            v.dirty().sync();
          }
        },
        err -> {
          if (g.sessionNo() != at) {
            return;
          }
          if (err != null) {
            g.restartSession("cannot make the resync durable: " + err.getMessage());
            return;
          }
          g.followerSynced = true;
          g.power.clearStale();
          g.lease.revoke();
        });
  }

  /** Digests the range where it sits in the write order (after earlier writes are applied). */
  void onDigestRequest(DigestRequest m) {
    if (g.isLeader() || m.volume() >= g.volumes.size()) {
      g.send(new RequestRefused(m.requestId(), Refusal.UNAVAILABLE));
      return;
    }
    VolumeReplica v = g.volumes.get(m.volume());
    long regionSize = v.dirty().regionSizeBytes();
    // Subtract, never add: a peer's firstRegion near Long.MAX_VALUE must not wrap into range.
    long regions = v.dirty().regionCount();
    if (m.count() <= 0 || m.firstRegion() < 0 || m.firstRegion() > regions - m.count()) {
      g.send(new RequestRefused(m.requestId(), Refusal.UNAVAILABLE));
      return;
    }
    long offset = m.firstRegion() * regionSize;
    long length = Math.min(m.count() * regionSize, v.local().sizeBytes() - offset);
    int at = g.sessionNo();
    RangeSequencer seq = g.sequencer(m.volume());
    RangeSequencer.Entry[] slot = new RangeSequencer.Entry[1];
    long[][] out = new long[1][];
    slot[0] =
        seq.enqueue(
            offset,
            length,
            true,
            () ->
                g.runIo(
                    () ->
                        out[0] =
                            RegionDigests.digests(
                                v.local(),
                                offset,
                                (int) regionSize,
                                m.count(),
                                ByteBuffer.allocate((int) regionSize)),
                    err -> {
                      seq.release(slot[0]);
                      if (g.sessionNo() != at) {
                        return;
                      }
                      g.send(
                          err != null
                              ? new RequestRefused(m.requestId(), Refusal.IO_ERROR)
                              : new DigestResponse(
                                  m.requestId(), m.volume(), m.firstRegion(), out[0]));
                    }));
  }

  /** The session ended: forwarded requests fail (their outcome is unknown), holds are dropped. */
  void sessionLost() {
    for (HostRequest r : new ArrayList<>(forwarded.values())) {
      r.done.completeExceptionally(
          new UnavailableException(Reason.PEER_LOST, "session with the leader lost"));
    }
    forwarded.clear();
    notDurable.clear();
    // Applied here, never committed: the leader ordered them but may have gone down before its
    // own copy (and its activity log) had them, so nothing there says the region differs. Marked
    // dirty here before the activity log lets go of them, the next session resyncs them.
    for (Applied a : uncommitted.values()) {
      markDirtyThenRelease(a);
    }
    uncommitted.clear();
  }

  private void markDirtyThenRelease(Applied a) {
    VolumeReplica v = g.volumes.get(a.volume());
    marking++;
    g.runIo(
        () -> v.dirty().markDirty(a.offset(), a.length()),
        err -> {
          marking--;
          settled();
          if (err != null) {
            // The activity log keeps the extent: a crash still reports it, only a clean run
            // would miss it.
            g.listener.onWarning("cannot mark an uncommitted write dirty: " + err.getMessage());
            g.sequencer(a.volume()).release(a.slot());
            return;
          }
          v.activity().endWrite(a.offset(), a.length());
          g.sequencer(a.volume()).release(a.slot());
        });
  }
}
