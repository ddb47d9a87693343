package io.duet.sync;

import io.duet.sync.ConsistencyGroupReplicator.PeerState;
import io.duet.sync.UnavailableException.Reason;
import io.duet.sync.proto.Message.FlushRequest;
import io.duet.sync.proto.Message.Flushed;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;

/**
 * Host flushes (SYNCHRONIZE CACHE, NBD FLUSH, FUA's cousin): complete when this site and the peer
 * have both made their data durable, or when the leader is provably alone. Also answers the peer's
 * flush requests. Loop-confined.
 */
final class FlushCoordinator {
  private final ConsistencyGroupReplicator g;
  private final Map<Long, PendingFlush> flushes = new HashMap<>();

  /** A host flush waiting for the local and the peer's fdatasync. */
  private static final class PendingFlush {
    final HostRequest host;
    boolean localDone;
    boolean peerDone;

    PendingFlush(HostRequest host) {
      this.host = host;
    }
  }

  FlushCoordinator(ConsistencyGroupReplicator g) {
    this.g = g;
  }

  void start(HostRequest r) {
    PendingFlush pf = new PendingFlush(r);
    long id = g.newRequestId();
    flushes.put(id, pf);
    boolean needPeer =
        g.sessionUp()
            && (!g.isLeader()
                || g.peerState == PeerState.SYNCING
                || g.peerState == PeerState.IN_SYNC);
    if (needPeer) {
      g.send(new FlushRequest(id, r.volume));
    } else {
      // Leader alone: its own fdatasync is all there is. LOST: wait until the follower's lease
      // has ended (goAlone completes it), since until then the follower might still serve.
      pf.peerDone = g.peerState == PeerState.ABSENT && g.isLeader();
    }
    if (!needPeer && !g.isLeader()) {
      // Unreachable while serving (a serving follower has a session); fail rather than guess.
      flushes.remove(id);
      r.done.completeExceptionally(
          new UnavailableException(Reason.PEER_LOST, "no session with the leader"));
      return;
    }
    g.runIo(
        () -> g.volumes.get(r.volume).local().flush(),
        err -> {
          if (err != null) {
            flushes.remove(id);
            r.done.completeExceptionally(err);
            return;
          }
          pf.localDone = true;
          maybeFinish(id, pf);
        });
  }

  private void maybeFinish(long id, PendingFlush pf) {
    if (pf.localDone && pf.peerDone && flushes.remove(id) != null) {
      pf.host.done.complete(-1L);
    }
  }

  void onFlushed(Flushed m) {
    PendingFlush pf = flushes.get(m.requestId());
    if (pf == null) {
      return;
    }
    if (!m.ok()) {
      flushes.remove(m.requestId());
      pf.host.done.completeExceptionally(new IOException("the peer's flush failed"));
      return;
    }
    pf.peerDone = true;
    maybeFinish(m.requestId(), pf);
  }

  void onRequest(FlushRequest m) {
    if (m.volume() >= g.volumes.size()) {
      return;
    }
    int at = g.sessionNo();
    g.runIo(
        () -> g.volumes.get(m.volume()).local().flush(),
        err -> {
          if (g.sessionNo() == at) {
            g.send(new Flushed(m.requestId(), err == null));
          }
        });
  }

  /** The peer can no longer confirm flushes: leaders finish them alone, followers fail them. */
  void settle(boolean alone) {
    for (Map.Entry<Long, PendingFlush> e : new ArrayList<>(flushes.entrySet())) {
      PendingFlush pf = e.getValue();
      if (alone) {
        pf.peerDone = true;
        maybeFinish(e.getKey(), pf);
      } else if (!g.isLeader() || g.peerState != PeerState.LOST) {
        flushes.remove(e.getKey());
        pf.host.done.completeExceptionally(
            new UnavailableException(Reason.PEER_LOST, "session with the peer lost"));
      }
    }
  }
}
