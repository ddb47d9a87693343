package io.duet.sync;

import static io.duet.sync.ConsistencyGroupReplicator.ms;

import io.duet.sync.ConsistencyGroupReplicator.PeerState;
import io.duet.sync.proto.Message.Heartbeat;

/**
 * Heartbeats and the follower's lease. The follower serves only while it holds a lease, renewed
 * when the leader echoes one of the follower's heartbeats and counted from the follower's own send
 * time. When the leader loses a follower that may hold a lease, it acknowledges nothing alone until
 * {@code grantBase + lease + margin} has passed on its own clock ({@link PeerState#LOST}), then
 * marks what the follower may lack dirty and goes on alone. Loop-confined.
 */
final class LeaseKeeper {
  private final ConsistencyGroupReplicator g;
  private long leaseUntilNanos;

  /** Follower: a lease was granted since the last resync (so its expiry means something). */
  private boolean leaseGranted;

  private long lastHeardNanos;
  private long lastPeerSenderNanos;
  private long sessionStartNanos;
  private long lastPeerReceiptNanos;

  /** Leader: receipt time of the newest follower heartbeat echoed as a lease grant. */
  private long grantBaseNanos;

  private SyncTimers.Cancellable aloneTimer;

  LeaseKeeper(ConsistencyGroupReplicator g) {
    this.g = g;
  }

  /** Follower: whether a lease granted since the last resync is still running. */
  boolean holdsLease() {
    return leaseGranted && g.now() - leaseUntilNanos < 0;
  }

  /** A frame of the current session arrived: the peer is alive. */
  void heard() {
    lastHeardNanos = g.now();
  }

  /** A session is up: only its heartbeats may be echoed as lease grants. */
  void sessionStarted() {
    lastHeardNanos = g.now();
    sessionStartNanos = lastHeardNanos;
    lastPeerSenderNanos = 0;
  }

  /** The follower was resynced (or the session ended): a new grant is needed to serve. */
  void revoke() {
    leaseGranted = false;
  }

  /** The old leader hands off: its own lease as the new follower, counted from before the send. */
  void grantOwnAfterHandoff() {
    leaseUntilNanos = g.now() + ms(g.settings.leaseMs());
    leaseGranted = true;
  }

  /** The new leader after a handoff: the old one counts its lease from before it sent it. */
  void startGrantingAfterHandoff() {
    lastHeardNanos = g.now();
    grantBaseNanos = g.now();
  }

  void onHeartbeat(Heartbeat h) {
    g.failover.onPeerHeartbeat(h);
    lastPeerSenderNanos = h.senderNanos();
    lastPeerReceiptNanos = g.now();
    // An echo of a heartbeat sent before this session began grants nothing.
    if (!g.isLeader()
        && g.followerSynced
        && h.echoNanos() != 0
        && h.echoNanos() - sessionStartNanos >= 0) {
      long until = h.echoNanos() + ms(g.settings.leaseMs());
      if (!leaseGranted || until - leaseUntilNanos > 0) {
        leaseUntilNanos = until;
        leaseGranted = true;
      }
    }
  }

  void scheduleTick() {
    g.timers.schedule(ms(g.settings.heartbeatIntervalMs()), () -> g.post(this::tick));
  }

  private void tick() {
    if (g.isClosed()) {
      return;
    }
    scheduleTick();
    long now = g.now();
    if (!g.sessionUp()) {
      return;
    }
    if (now - lastHeardNanos > ms(g.settings.peerTimeoutMs())) {
      g.restartSession("peer silent for " + g.settings.peerTimeoutMs() + " ms");
      return;
    }
    if (!g.isLeader() && g.followerSynced && leaseGranted && now - leaseUntilNanos >= 0) {
      g.listener.onWarning("lease from the leader expired; this site stops serving");
      g.restartSession("lease expired");
      return;
    }
    if (!g.isLeader()) {
      g.send(g.failover.followerHeartbeat(now));
      return;
    }
    long echo = 0;
    if (g.peerState == PeerState.IN_SYNC && lastPeerSenderNanos != 0) {
      echo = lastPeerSenderNanos;
      grantBaseNanos = Math.max(grantBaseNanos, lastPeerReceiptNanos);
    }
    g.send(new Heartbeat(now, echo, g.failover.preElectFlag()));
  }

  /**
   * The leader lost its follower. If the follower may hold a lease, acknowledgements wait until it
   * has provably ended ({@code grantBase + lease + margin}); otherwise the leader goes alone now.
   * {@code peerStopped}: the follower told us (by restarting the session) that it stopped serving.
   */
  void peerLost(boolean peerStopped) {
    if (g.peerState == PeerState.IN_SYNC && !peerStopped) {
      g.peerState = PeerState.LOST;
      long deadline = grantBaseNanos + ms(g.settings.leaseMs() + g.settings.leaseMarginMs());
      long delay = deadline - g.now();
      if (delay <= 0) {
        g.failover.followerGone();
      } else {
        cancelAloneTimer();
        aloneTimer = g.timers.schedule(delay, () -> g.post(this::aloneTimerFired));
      }
    } else if (g.peerState == PeerState.IN_SYNC || g.peerState == PeerState.LOST && peerStopped) {
      // The follower was in sync: it may ask the mediator to take over, so going alone may
      // first need the mediator's record.
      g.peerState = PeerState.LOST;
      cancelAloneTimer();
      g.failover.followerGone();
    } else if (g.peerState == PeerState.SYNCING) {
      g.goAlone(); // a follower that never got in sync this session cannot take over
    }
  }

  private void aloneTimerFired() {
    aloneTimer = null;
    if (g.peerState == PeerState.LOST) {
      g.failover.followerGone();
    }
  }

  void cancelAloneTimer() {
    if (aloneTimer != null) {
      aloneTimer.cancel();
      aloneTimer = null;
    }
  }
}
