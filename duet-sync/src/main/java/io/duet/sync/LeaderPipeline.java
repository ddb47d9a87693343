package io.duet.sync;

import io.duet.sync.ConsistencyGroupReplicator.PeerState;
import io.duet.sync.dirty.ActivityLog;
import io.duet.sync.dirty.DirtyRegions;
import io.duet.sync.proto.Message.CompareAndWriteMismatch;
import io.duet.sync.proto.Message.CompareAndWriteRequest;
import io.duet.sync.proto.Message.ForwardedWrite;
import io.duet.sync.proto.Message.OrderedWrite;
import io.duet.sync.proto.Message.Refusal;
import io.duet.sync.proto.Message.RequestRefused;
import io.duet.sync.proto.Message.WriteKind;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;

/**
 * The leader's side of write ordering. Each write (local host, forwarded by the follower, or a
 * matching compare-and-write) waits in the volume's {@link RangeSequencer} behind overlapping
 * writes, gets the next sequence number, and is acknowledged when it is applied here and either
 * applied at the follower or durably marked dirty after the follower provably stopped serving.
 *
 * <p>A local host write is sent to the follower and applied here concurrently. A forwarded write or
 * a compare-and-write is applied here first and sent after: the follower acknowledges its host as
 * soon as it applies one of those, so the leader must already hold it. Loop-confined.
 */
final class LeaderPipeline {
  private final ConsistencyGroupReplicator g;
  private long nextSeq;
  private final Map<Long, Write> inFlight = new HashMap<>();

  /** Dirty marks of unacknowledged writes still being made durable (see {@link #cover}). */
  private int coversPending;

  /**
   * Writes of this site's hosts that finished before the follower reported applying them (covered
   * dirty: this site led alone when it applied a compare-and-write it sent afterwards), by sequence
   * number, with the session they were sent in. The follower holds each one's range until it hears
   * the write is committed, so the commit still goes once it reports the write applied. (A write
   * that failed here gets no commit: the session restarts instead.)
   */
  private final Map<Long, Integer> finishedBeforeApplied = new HashMap<>();

  /** One write being ordered. */
  private static final class Write {
    final int volume;
    final long offset;
    final long length;
    final WriteKind kind;
    final boolean fua;
    final byte[] data;
    final byte[] expected; // compare-and-write only
    final HostRequest host; // null when forwarded
    final long originRequest; // the follower's request id, or 0
    long seq;
    RangeSequencer.Entry slot;
    int sentInSession = -1;
    boolean activityBegun;
    boolean localDone;
    boolean peerApplied;
    boolean covered; // durably dirty: the follower's copy no longer matters
    boolean coverPending;
    boolean finished;
    IOException error;

    Write(
        HostRequest host,
        long originRequest,
        int volume,
        long offset,
        long length,
        WriteKind kind,
        boolean fua,
        byte[] data,
        byte[] expected) {
      this.host = host;
      this.originRequest = originRequest;
      this.volume = volume;
      this.offset = offset;
      this.length = length;
      this.kind = kind;
      this.fua = fua;
      this.data = data;
      this.expected = expected;
    }

    boolean applyFirst() {
      return host == null || expected != null;
    }
  }

  LeaderPipeline(ConsistencyGroupReplicator g) {
    this.g = g;
  }

  String describe() {
    StringBuilder sb = new StringBuilder();
    for (Write w : inFlight.values()) {
      sb.append(
          String.format(
              "{seq %d off %d sent %d local %b peer %b cov %b/%b} ",
              w.seq,
              w.offset,
              w.sentInSession,
              w.localDone,
              w.peerApplied,
              w.covered,
              w.coverPending));
    }
    return sb.toString();
  }

  /**
   * Whether some write's region is still being marked dirty, or will be once its local write
   * completes (it was not sent in this session, so the follower may lack it): a resync must not end
   * before. The scan runs only when a resync is about to end.
   */
  boolean coversPending() {
    if (coversPending > 0) {
      return true;
    }
    for (Write w : inFlight.values()) {
      if (!w.covered && !w.localDone && w.sentInSession != g.sessionNo()) {
        return true;
      }
    }
    return false;
  }

  int inFlight() {
    return inFlight.size();
  }

  void submitHost(HostRequest r) {
    byte[] expected = r.type == HostRequest.Type.COMPARE_AND_WRITE ? r.expected : null;
    enqueue(new Write(r, 0, r.volume, r.offset, r.length, r.kind, r.fua, r.data, expected));
  }

  void onForwardedWrite(ForwardedWrite m) {
    if (!acceptsFromFollower(m.requestId(), m.volume())) {
      return;
    }
    enqueue(
        new Write(
            null,
            m.requestId(),
            m.volume(),
            m.offset(),
            m.length(),
            m.kind(),
            m.fua(),
            m.data(),
            null));
  }

  void onCompareAndWriteRequest(CompareAndWriteRequest m) {
    if (!acceptsFromFollower(m.requestId(), m.volume())) {
      return;
    }
    enqueue(
        new Write(
            null,
            m.requestId(),
            m.volume(),
            m.offset(),
            m.data().length,
            WriteKind.WRITE,
            m.fua(),
            m.data(),
            m.expected()));
  }

  private boolean acceptsFromFollower(long requestId, int volume) {
    if (g.handoffDraining()) {
      return true; // held by enqueue, answered after the handoff when we know who leads
    }
    Refusal refusal = null;
    if (!g.isLeader()) {
      refusal = Refusal.NOT_LEADER;
    } else if (g.peerState != PeerState.IN_SYNC || volume >= g.volumes.size()) {
      refusal = Refusal.UNAVAILABLE;
    }
    if (refusal != null) {
      g.send(new RequestRefused(requestId, refusal));
      return false;
    }
    return true;
  }

  private void enqueue(Write w) {
    if (g.handoffDraining()) {
      g.holdDuringHandoff(() -> resubmitAfterHandoff(w));
      return;
    }
    RangeSequencer seq = g.sequencer(w.volume);
    w.slot = seq.enqueue(w.offset, w.length, false, () -> admitted(w));
  }

  private void resubmitAfterHandoff(Write w) {
    if (w.host != null) {
      g.submit(w.host);
    } else {
      g.send(
          new RequestRefused(
              w.originRequest, g.isLeader() ? Refusal.UNAVAILABLE : Refusal.NOT_LEADER));
    }
  }

  private void admitted(Write w) {
    if (!g.isLeader() && w.slot != null) {
      // Queued while this site led, admitted after it was fenced or handed off: not ours to order.
      g.sequencer(w.volume).release(w.slot);
      if (w.host != null) {
        w.host.done.completeExceptionally(
            new UnavailableException(UnavailableException.Reason.FENCED, "no longer the leader"));
      } else {
        g.send(new RequestRefused(w.originRequest, Refusal.NOT_LEADER));
      }
      return;
    }
    w.seq = ++nextSeq;
    inFlight.put(w.seq, w);
    if (!w.applyFirst()) {
      sendOrder(w);
    }
    boolean alone = g.peerState == PeerState.ABSENT;
    if (alone) {
      // However this site came to lead alone (its follower lost, a takeover, a forced failover,
      // a restart as the recorded survivor), its copy becomes the newer one with this write: the
      // record must say so before a power loss can make it look stale (simulation seed
      // 508323622146777905: a site that took over lost power, restarted "stale" and handed its
      // leadership back to the older copy). A no-op once recorded.
      g.power.recordAlone();
      w.covered = true; // marked dirty below, before the local write is issued
      coversPending++; // a resync starting meanwhile must not end before the mark is made
    }
    // While this site's copy is the one that wins (it led alone) and the follower catches up, a
    // write the follower also applies must not live only in this site's page cache: a power loss
    // here would make the resync copy the older durable block over the follower's newer one. So
    // it is durable here before it is acknowledged, until the follower is back in sync.
    boolean fua = w.fua || (g.peerState == PeerState.SYNCING && g.power.alone());
    VolumeReplica v = g.volumes.get(w.volume);
    long[] mismatch = {-1};
    g.runIo(
        () -> {
          if (w.expected != null) {
            mismatch[0] = LocalApply.compare(v.local(), w.offset, w.expected);
            if (mismatch[0] >= 0) {
              return;
            }
          }
          v.activity().beginWrite(w.offset, w.length);
          w.activityBegun = true;
          if (alone) {
            v.dirty().markDirty(w.offset, w.length);
          }
          LocalApply.apply(v.local(), w.offset, w.length, w.kind, fua, w.data);
        },
        err -> {
          if (alone) {
            coversPending--;
            g.resync.coverLanded();
          }
          localApplied(w, err, mismatch[0]);
        });
  }

  private void sendOrder(Write w) {
    if (g.sessionUp() && (g.peerState == PeerState.SYNCING || g.peerState == PeerState.IN_SYNC)) {
      boolean sent =
          g.send(
              new OrderedWrite(
                  w.seq,
                  w.volume,
                  w.offset,
                  w.length,
                  w.kind,
                  w.fua,
                  w.originRequest,
                  w.kind.carriesData() ? w.data : new byte[0]));
      if (sent) {
        w.sentInSession = g.sessionNo();
      }
    }
  }

  private void localApplied(Write w, IOException err, long mismatch) {
    if (w.finished) {
      return;
    }
    w.localDone = true;
    if (err != null) {
      w.error = err;
      if (g.sessionUp()) {
        // The failed write may have changed part of this range here, and the follower may apply
        // it: the copies can differ, so they stop counting as in sync before the range is marked
        // dirty, and the resync of the next session makes them equal again.
        g.listener.onWarning("local write failed, resynchronizing its range: " + err.getMessage());
        g.restartSession("local write failed");
      }
      cover(w);
      return;
    }
    if (mismatch >= 0) {
      finish(w, mismatch);
      return;
    }
    if (w.applyFirst()) {
      sendOrder(w);
    }
    // Not sent in the current session (never, or in one that has ended): the follower's copy is
    // unknown, so the region is resynced — unless the follower may still serve (LOST), in which
    // case goAlone covers it once the lease has run out.
    if (!w.covered && w.sentInSession != g.sessionNo() && g.peerState != PeerState.LOST) {
      cover(w);
    }
    maybeComplete(w);
  }

  void onWriteApplied(long seq) {
    Write w = inFlight.get(seq);
    if (w != null && w.sentInSession == g.sessionNo()) {
      w.peerApplied = true;
      maybeComplete(w);
      return;
    }
    Integer sentIn = finishedBeforeApplied.remove(seq);
    if (w == null && sentIn != null && sentIn == g.sessionNo()) {
      g.acks.committed(seq);
    }
  }

  /** The follower is gone and provably not serving: mark what it may lack, then acknowledge. */
  void coverUnacked() {
    for (Write w : new ArrayList<>(inFlight.values())) {
      if (!w.peerApplied && !w.covered && w.localDone) {
        cover(w);
      }
      // Writes still applying locally are covered when they finish (localApplied sees ABSENT).
    }
  }

  private void cover(Write w) {
    if (w.coverPending || w.covered) {
      maybeComplete(w);
      return;
    }
    w.coverPending = true;
    coversPending++;
    DirtyRegions dirty = g.volumes.get(w.volume).dirty();
    g.runIo(
        () -> dirty.markDirty(w.offset, w.length),
        err -> {
          w.coverPending = false;
          coversPending--;
          g.resync.coverLanded();
          if (err != null) {
            w.error = err;
          } else {
            w.covered = true;
          }
          maybeComplete(w);
        });
  }

  private void maybeComplete(Write w) {
    if (w.finished || !w.localDone || w.coverPending) {
      return;
    }
    if (w.error == null && !w.peerApplied && !w.covered) {
      return;
    }
    finish(w, -1);
  }

  private void finish(Write w, long mismatch) {
    w.finished = true;
    inFlight.remove(w.seq);
    g.sequencer(w.volume).release(w.slot);
    if (w.activityBegun) {
      g.volumes.get(w.volume).activity().endWrite(w.offset, w.length);
    }
    if (w.originRequest == 0 && w.sentInSession == g.sessionNo() && w.error == null) {
      // The follower holds reads of this range until it knows both sites have the write (after a
      // local failure here they may not: the follower keeps holding it until its session ends).
      if (w.peerApplied) {
        g.acks.committed(w.seq);
      } else {
        // Simulation seed 8181566010919665374: a compare-and-write applied alone and sent as the
        // follower came back finished at once (covered); without this its commit never went and
        // the follower held the range, and the resync behind it, for good.
        int session = g.sessionNo();
        finishedBeforeApplied.values().removeIf(sentIn -> sentIn != session);
        finishedBeforeApplied.put(w.seq, session);
      }
    }
    if (w.host != null) {
      if (w.error != null) {
        w.host.done.completeExceptionally(w.error);
      } else if (!g.failover.leaderMayServe()) {
        // The mediator lease ended while the write was in flight (this site was paused, or cut
        // off from the mediator): no acknowledgement after the lease, even of a replicated write.
        w.host.done.completeExceptionally(
            new UnavailableException(
                UnavailableException.Reason.NO_LEASE,
                "the mediator lease ended before the write completed"));
      } else {
        w.host.done.complete(mismatch);
      }
    } else if (mismatch >= 0) {
      g.send(new CompareAndWriteMismatch(w.originRequest, mismatch));
    } else if (w.error != null) {
      g.send(new RequestRefused(w.originRequest, Refusal.IO_ERROR));
    }
    g.checkHandoff();
    g.resync.coverLanded(); // a resync waiting for this write's mark (or its end) goes on
  }

  /**
   * This site stops leading (fenced or closed): fail every write in flight. Their ranges are marked
   * dirty first, synchronously, so the dirty map this site hands the new leader covers every region
   * it may have changed.
   */
  void abortAll(IOException why) {
    for (Write w : new ArrayList<>(inFlight.values())) {
      try {
        g.volumes.get(w.volume).dirty().markDirty(w.offset, w.length);
      } catch (IOException e) {
        g.listener.onWarning("cannot mark a fenced write dirty: " + e.getMessage());
      }
      w.finished = true;
      inFlight.remove(w.seq);
      g.sequencer(w.volume).release(w.slot);
      ActivityLog log = g.volumes.get(w.volume).activity();
      if (w.activityBegun) {
        log.endWrite(w.offset, w.length);
      }
      if (w.host != null) {
        w.host.done.completeExceptionally(why);
      }
    }
  }
}
