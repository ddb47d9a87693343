package io.duet.sync;

import io.duet.sync.ConsistencyGroupReplicator.PeerState;
import io.duet.sync.UnavailableException.Reason;
import io.duet.sync.proto.FrameCodec;
import io.duet.sync.proto.Message.Refusal;
import io.duet.sync.proto.Message.RequestRefused;
import io.duet.sync.proto.Message.SharedApplied;
import io.duet.sync.proto.Message.SharedOrdered;
import io.duet.sync.proto.Message.SharedRequest;
import io.duet.sync.proto.Message.SharedSnapshot;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Replicated unit state ({@link SharedStateMachine}) at both roles. The leader applies each command
 * on the loop as it arrives, which is its order, and sends it to an in-sync follower; the follower
 * applies the leader's commands on arrival, so in the same order. A leader command completes when
 * the follower has applied it, or on the same rule as a write acknowledged alone: at once when the
 * follower is not serving and will install a snapshot taken later (no session, or resynchronizing),
 * otherwise once the follower has provably stopped serving ({@link #peerGone}). Follower commands
 * travel to the leader and complete with the leader's result when its ordered copy has been applied
 * here. Loop-confined.
 */
final class SharedCommands {
  private final ConsistencyGroupReplicator g;
  private final SharedStateMachine machine;
  private long nextSeq;

  /** Leader: commands sent to the follower and not yet applied there, by sequence number. */
  private final Map<Long, Pending> inFlight = new HashMap<>();

  /** Follower: this site's commands sent to the leader, by request id. */
  private final Map<Long, Call> forwarded = new HashMap<>();

  /** A host's command at this site. */
  record Call(int volume, byte[] command, CompletableFuture<byte[]> done) {}

  /**
   * A leader command waiting for the follower; {@code call} is null when the follower issued it.
   */
  private record Pending(Call call, byte[] result, int sentInSession) {}

  SharedCommands(ConsistencyGroupReplicator g, SharedStateMachine machine) {
    this.g = g;
    this.machine = machine;
  }

  int inFlight() {
    return inFlight.size();
  }

  /** A host's command at this site, which serves now. */
  void submit(Call c) {
    if (g.isLeader()) {
      order(c, c.volume(), c.command(), 0);
    } else {
      forward(c);
    }
  }

  // ---- leader

  private void order(Call call, int volume, byte[] command, long originRequest) {
    byte[] result;
    try {
      result = machine.apply(volume, command);
    } catch (RuntimeException e) {
      // A machine bug, not a replication fault: nothing was sent, the caller learns why.
      g.listener.onWarning("unit-state command failed at the leader: " + e);
      if (call != null) {
        call.done().completeExceptionally(e);
      } else {
        g.send(new RequestRefused(originRequest, Refusal.IO_ERROR));
      }
      return;
    }
    byte[] answer = result == null ? new byte[0] : result;
    long seq = ++nextSeq;
    boolean sent =
        g.sessionUp()
            && g.peerState == PeerState.IN_SYNC
            && g.send(new SharedOrdered(seq, volume, originRequest, command, answer));
    if (!sent && g.peerState != PeerState.IN_SYNC && g.peerState != PeerState.LOST) {
      // ABSENT or SYNCING: the follower serves nothing until it installs a snapshot taken later.
      complete(call, answer);
      return;
    }
    // Sent, or the follower may still serve without it (a failed send restarts the session, and
    // peerGone settles it once the follower's lease has provably run out).
    inFlight.put(seq, new Pending(call, answer, sent ? g.sessionNo() : -1));
  }

  void onRequest(SharedRequest m) {
    if (g.handoffDraining()) {
      // Answered after the handoff, when it is known who leads.
      g.holdDuringHandoff(() -> onRequest(m));
      return;
    }
    Refusal refusal = null;
    if (!g.isLeader()) {
      refusal = Refusal.NOT_LEADER;
    } else if (g.peerState != PeerState.IN_SYNC || m.volume() >= g.volumes.size()) {
      refusal = Refusal.UNAVAILABLE;
    }
    if (refusal != null) {
      g.send(new RequestRefused(m.requestId(), refusal));
      return;
    }
    order(null, m.volume(), m.command(), m.requestId());
  }

  void onApplied(SharedApplied m) {
    Pending p = inFlight.get(m.seq());
    if (p != null && p.sentInSession() == g.sessionNo()) {
      inFlight.remove(m.seq());
      complete(p.call(), p.result());
      g.checkHandoff();
    }
  }

  /** The follower has provably stopped serving: what it may lack, a snapshot will bring. */
  void peerGone() {
    for (Pending p : new ArrayList<>(inFlight.values())) {
      complete(p.call(), p.result());
    }
    inFlight.clear();
  }

  /** This site stops leading (fenced or closed): commands waiting for the follower fail. */
  void abortAll(IOException why) {
    for (Pending p : inFlight.values()) {
      if (p.call() != null) {
        p.call().done().completeExceptionally(why);
      }
    }
    inFlight.clear();
  }

  /**
   * Leader, at the end of a resync (before ResyncDone): the follower replaces its unit state with
   * ours. Commands applied after this are sent to it in order. Returns false if a snapshot cannot
   * be taken or is too large to send.
   */
  boolean sendSnapshots() {
    for (int v = 0; v < g.volumes.size(); v++) {
      byte[] snapshot;
      try {
        snapshot = machine.snapshot(v);
      } catch (RuntimeException e) {
        g.listener.onWarning("cannot take the unit state of volume " + v + ": " + e);
        return false;
      }
      byte[] bytes = snapshot == null ? new byte[0] : snapshot;
      if (bytes.length > FrameCodec.MAX_DATA_BYTES) {
        g.listener.onWarning(
            "unit state of volume "
                + v
                + " is too large to replicate ("
                + bytes.length
                + " bytes)");
        return false;
      }
      g.send(new SharedSnapshot(v, bytes));
    }
    return true;
  }

  // ---- follower

  private void forward(Call c) {
    long id = g.newRequestId();
    forwarded.put(id, c);
    if (!g.send(new SharedRequest(id, c.volume(), c.command())) && forwarded.remove(id) != null) {
      c.done()
          .completeExceptionally(
              new UnavailableException(Reason.PEER_LOST, "cannot reach the leader"));
    }
  }

  void onOrdered(SharedOrdered m) {
    if (applyFromLeader(
        "unit-state command", m.volume(), () -> machine.apply(m.volume(), m.command()))) {
      g.send(new SharedApplied(m.seq()));
      Call mine = m.originRequest() == 0 ? null : forwarded.remove(m.originRequest());
      complete(mine, m.result());
    }
  }

  void onSnapshot(SharedSnapshot m) {
    applyFromLeader(
        "unit-state snapshot", m.volume(), () -> machine.install(m.volume(), m.snapshot()));
  }

  /**
   * Follower: runs one of the leader's changes on the machine. A message that cannot be meant for
   * this site, or a machine that throws, restarts the session: the states may differ now, and a new
   * session ends with the leader's snapshot.
   */
  private boolean applyFromLeader(String what, int volume, Runnable change) {
    if (g.isLeader() || volume >= g.volumes.size()) {
      g.restartSession(what + " for a leader or an unknown volume");
      return false;
    }
    try {
      change.run();
      return true;
    } catch (RuntimeException e) {
      g.listener.onWarning("cannot apply the leader's " + what + ": " + e);
      g.restartSession(what + " failed");
      return false;
    }
  }

  /** Whether the refusal answered one of our commands (then it is settled here). */
  boolean onRefused(RequestRefused m) {
    Call c = forwarded.remove(m.requestId());
    if (c == null) {
      return false;
    }
    if (m.reason() == Refusal.NOT_LEADER && g.isLeader()) {
      g.submitShared(c); // a switchover made us the leader meanwhile
    } else if (m.reason() == Refusal.IO_ERROR) {
      c.done().completeExceptionally(new IOException("the leader's unit-state command failed"));
    } else {
      c.done()
          .completeExceptionally(
              new UnavailableException(Reason.OUT_OF_SYNC, "the leader refused: " + m.reason()));
    }
    return true;
  }

  /** The session ended: forwarded commands fail (whether the leader applied them is unknown). */
  void sessionLost() {
    for (Call c : forwarded.values()) {
      c.done()
          .completeExceptionally(
              new UnavailableException(Reason.PEER_LOST, "session with the leader lost"));
    }
    forwarded.clear();
  }

  private static void complete(Call call, byte[] result) {
    if (call != null) {
      call.done().complete(result.clone());
    }
  }
}
