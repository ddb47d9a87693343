package io.duet.sync;

import io.duet.sync.proto.Frame;
import io.duet.sync.proto.FrameCodec;
import io.duet.sync.proto.FrameException;
import io.duet.sync.proto.Message;
import io.duet.sync.proto.Message.EpochNotice;
import io.duet.sync.proto.Message.Handoff;
import io.duet.sync.proto.Message.Heartbeat;
import io.duet.sync.proto.Message.Hello;

/**
 * The session with the peer: the handshake, the frames' epochs and the session number that tells
 * this session's events from an ended one's. Every frame of the group goes out through {@link
 * #send} and comes in through {@link #receive}, which hands the current session's messages to the
 * replicator. Loop-confined.
 */
final class PeerSession {
  private enum State {
    DOWN,
    HANDSHAKING,
    UP
  }

  private final ConsistencyGroupReplicator g;
  private State state = State.DOWN;
  private int number;

  /** While up: the peer's number for this session (from the hello that established it). */
  private long peerSession;

  /** While up: the peer said its copy may lack writes we hold (it lost power). */
  private boolean peerStale;

  private long droppedOutsideSession;
  private long droppedStale;

  PeerSession(ConsistencyGroupReplicator g) {
    this.g = g;
  }

  boolean up() {
    return state == State.UP;
  }

  int number() {
    return number;
  }

  String describe() {
    return state + "#" + number + " dropped=" + droppedOutsideSession + "/" + droppedStale;
  }

  /** Installs the receiver on the transport; events reach the loop in order. */
  void attach() {
    g.transport.setReceiver(
        new Transport.Receiver() {
          @Override
          public void onFrame(byte[] frame) {
            g.post(() -> receive(frame));
          }

          @Override
          public void onLinkUp() {
            g.post(() -> linkUp());
          }

          @Override
          public void onLinkDown() {
            g.post(() -> end("link down"));
          }
        });
  }

  void linkUp() {
    if (!g.isClosed() && state == State.DOWN) {
      open();
    }
  }

  /**
   * Offers a fresh session unless one is up: an opening sent before this site held sessions may
   * have been answered while it did not listen, so it is not waited for.
   */
  void reopen() {
    if (state != State.UP && !g.isClosed()) {
      end("reopening");
      if (g.transport.isUp()) {
        open();
      }
    }
  }

  private void open() {
    if (g.failover.holdsSessions()) {
      return; // reopened once the mediator has recorded this site as the survivor
    }
    state = State.HANDSHAKING;
    number++;
    send(new Hello(g.siteId, g.leaderId(), g.volumes.size(), number, 0, g.power.stale()));
  }

  /** Sends one message in the current epoch; a refused send ends the session. */
  boolean send(Message m) {
    if (state == State.DOWN) {
      return false;
    }
    boolean sent = g.transport.send(FrameCodec.encode(new Frame(g.groupId, g.epoch(), m)));
    if (!sent && state == State.UP) {
      // The link is down or its bounded queue is full: the peer cannot follow this stream any
      // more, so this session ends and a new one (with a resync of what differs) begins. Later,
      // not here: callers are mid-update and must not see the session change under them.
      int at = number;
      g.post(
          () -> {
            if (number == at && state == State.UP) {
              restart("send failed");
            }
          });
    }
    return sent;
  }

  /** Ends the current session and, the link being up, offers a new one to the peer. */
  void restart(String reason) {
    if (state == State.UP) {
      g.listener.onWarning("session with the peer restarted: " + reason);
    }
    end(reason);
    if (!g.isClosed() && g.transport.isUp()) {
      open();
    }
  }

  void end(String reason) {
    State was = state;
    state = State.DOWN;
    number++;
    if (was == State.UP) {
      g.sessionEnded(reason);
    }
  }

  private void receive(byte[] bytes) {
    if (g.isClosed()) {
      return;
    }
    Frame frame;
    try {
      frame = FrameCodec.decode(bytes);
    } catch (FrameException e) {
      g.listener.onWarning("protocol error from peer, restarting the session: " + e.getMessage());
      restart("protocol error");
      return;
    }
    if (!frame.groupId().equals(g.groupId)) {
      g.listener.onWarning("frame for another consistency group " + frame.groupId() + " ignored");
      return;
    }
    if (frame.message() instanceof Hello h) {
      onHello(frame.epoch(), h);
      return;
    }
    if (state != State.UP) {
      droppedOutsideSession++;
      return; // the tail of a session that has ended on this side
    }
    if (frame.message() instanceof Handoff h) {
      g.handoff.onHandoff(frame.epoch(), h);
      return;
    }
    long epoch = g.epoch();
    if (frame.epoch() > epoch) {
      g.adoptEpoch(
          frame.epoch(), frame.message() instanceof EpochNotice n ? n.leaderId() : g.peerId);
      restart("peer is at a higher epoch");
      return;
    }
    if (frame.epoch() < epoch && !g.handoff.acceptsPreviousEpoch(frame.epoch())) {
      send(new EpochNotice(g.leaderId(), "epoch " + frame.epoch() + " is stale, current " + epoch));
      droppedStale++;
      return;
    }
    if (frame.epoch() < epoch && frame.message() instanceof Heartbeat) {
      // Sent in the peer's role before a handoff: the new follower must not read the new
      // leader's follower-era "no pre-election" as a withdrawal of the promise it just gave
      // (it would then take over at the mediator while the new leader, relying on that promise,
      // went on alone in the same epoch: simulation seeds 8193619722713043484,
      // 3667689179517825760). The next heartbeat of this epoch follows within an interval.
      g.lease.heard();
      return;
    }
    g.lease.heard();
    g.dispatch(frame.message());
  }

  /**
   * Session handshake. A hello with {@code echo == 0} opens a session: the receiver drops its own
   * (the peer stopped serving before it sent the hello), answers with a hello echoing the opener's
   * session number, and is up. A hello that echoes this site's pending opening completes the
   * handshake. When both open at once, the site with the lower id keeps its opening (sending it
   * again) and ignores the other's; the other answers it: one session, known by both numbers. A
   * site that is up and hears a hello of a peer session other than the one it is in (a delayed
   * opening the peer answered after all) restarts: the peer has ended the session this site still
   * holds, and no write of it may wait for an acknowledgement that will never come.
   */
  private void onHello(long peerEpoch, Hello h) {
    if (!h.siteId().equals(g.peerId) || h.volumeCount() != g.volumes.size()) {
      g.listener.onWarning(
          "peer hello does not match this group (site "
              + h.siteId()
              + ", "
              + h.volumeCount()
              + " volumes); session refused");
      end("mismatched peer");
      return;
    }
    if (h.echo() == 0) {
      if (state == State.UP && h.session() == peerSession) {
        return; // a repeat of the opening this session answered; our answer is on its way
      }
      if (state == State.HANDSHAKING && g.siteId.compareTo(g.peerId) < 0) {
        // Both opened: ours wins. Repeat it, since the peer may have dropped the first copy
        // (while it waited for the mediator, say); the peer answers it instead of waiting.
        send(new Hello(g.siteId, g.leaderId(), g.volumes.size(), number, 0, g.power.stale()));
        return;
      }
      if (g.failover.holdsSessions() && peerEpoch <= g.epoch()) {
        // Writes the follower may lack wait for the mediator's record; a session now would let
        // the resync start without them. The peer retries.
        return;
      }
      if (state == State.UP) {
        g.listener.onWarning("the peer restarted the session");
      }
      end("peer opened a new session");
      state = State.HANDSHAKING;
      number++;
      if (!reconcileEpoch(peerEpoch, h)) {
        return;
      }
      send(
          new Hello(
              g.siteId, g.leaderId(), g.volumes.size(), number, h.session(), g.power.stale()));
      established(h);
    } else if (state == State.HANDSHAKING && h.echo() == number) {
      if (reconcileEpoch(peerEpoch, h)) {
        established(h);
      }
    } else if (state == State.UP && h.session() != peerSession) {
      g.listener.onWarning("the peer answered an abandoned opening; restarting the session");
      restart("peer is in another session");
    }
  }

  private boolean reconcileEpoch(long peerEpoch, Hello h) {
    if (peerEpoch > g.epoch()) {
      g.adoptEpoch(peerEpoch, h.leaderId());
    } else if (peerEpoch == g.epoch() && !h.leaderId().equals(g.leaderId())) {
      g.listener.onWarning(
          "peer names another leader at the same epoch " + g.epoch() + "; refused");
      end("leader conflict");
      return false;
    }
    return true;
  }

  /** Whether the peer's copy may lack writes this site holds (see {@link Hello#stale}). */
  boolean peerStale() {
    return peerStale;
  }

  private void established(Hello h) {
    peerSession = h.session();
    peerStale = h.stale();
    if (g.isLeader() && g.peerState == ConsistencyGroupReplicator.PeerState.LOST) {
      g.lease.peerLost(true); // the follower answered or opened a session: it no longer serves
      if (g.failover.holdsSessions()) {
        end("waiting for the mediator to record this site as the survivor");
        return;
      }
    }
    state = State.UP;
    g.lease.sessionStarted();
    g.handoff.sessionStarted();
    g.sessionEstablished();
  }
}
