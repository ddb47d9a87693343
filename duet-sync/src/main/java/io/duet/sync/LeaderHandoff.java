package io.duet.sync;

import static io.duet.sync.ConsistencyGroupReplicator.ms;

import io.duet.sync.ConsistencyGroupReplicator.PeerState;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Moving the leader role: the planned switchover (the leader drains its writes in flight, holds new
 * ones, persists epoch+1 naming the peer and tells it; the held requests then go to whoever leads)
 * and the operator's forced failover to this site. Loop-confined.
 */
final class LeaderHandoff {
  private final ConsistencyGroupReplicator g;

  /** The epoch this site handed off at, while frames of the epoch before may still arrive. */
  private long handoffEpoch = -1;

  private CompletableFuture<Void> pending;

  /** Host requests and peer requests held while the writes in flight drain. */
  private final List<Runnable> held = new ArrayList<>();

  LeaderHandoff(ConsistencyGroupReplicator g) {
    this.g = g;
  }

  boolean draining() {
    return pending != null;
  }

  /** Runs {@code task} once the handoff has finished, one way or the other. */
  void hold(Runnable task) {
    held.add(task);
  }

  /** A frame of the epoch just handed off is the tail of the old order, not a stale peer. */
  boolean acceptsPreviousEpoch(long frameEpoch) {
    return frameEpoch == g.epoch() - 1 && handoffEpoch == g.epoch();
  }

  void sessionStarted() {
    handoffEpoch = -1;
  }

  void sessionLost(String reason) {
    if (pending != null) {
      finishFailed("session lost during switchover: " + reason);
    }
  }

  void start(CompletableFuture<Void> f) {
    if (!g.isLeader() || !g.sessionUp() || g.peerState != PeerState.IN_SYNC || pending != null) {
      f.completeExceptionally(
          new IllegalStateException("switchover refused: this site must lead an in-sync group"));
      return;
    }
    String mediatorSays = g.failover.switchoverRefusal();
    if (mediatorSays != null) {
      f.completeExceptionally(new IllegalStateException("switchover refused: " + mediatorSays));
      return;
    }
    pending = f;
    check();
  }

  /**
   * Called whenever a leader operation finishes: completes the handoff once nothing is in flight.
   */
  void check() {
    if (pending == null || g.leader.inFlight() > 0 || g.shared.inFlight() > 0) {
      return;
    }
    CompletableFuture<Void> f = pending;
    // The follower holds reads until it learns of the commits: they must precede the handoff.
    g.acks.flush();
    g.persistEpoch(g.epoch() + 1, g.peerId);
    handoffEpoch = g.epoch();
    g.send(new io.duet.sync.proto.Message.Handoff(g.peerId));
    // Our own lease as the new follower, counted from before the peer can receive the handoff.
    g.lease.grantOwnAfterHandoff();
    g.failover.handedOff();
    g.followerSynced = true;
    g.provenCurrent = false;
    g.peerState = PeerState.ABSENT;
    pending = null;
    releaseHeld();
    f.complete(null);
  }

  private void finishFailed(String why) {
    CompletableFuture<Void> f = pending;
    pending = null;
    releaseHeld();
    f.completeExceptionally(new IllegalStateException(why));
  }

  private void releaseHeld() {
    List<Runnable> tasks = new ArrayList<>(held);
    held.clear();
    tasks.forEach(Runnable::run);
  }

  /** The peer handed the leadership to this site. */
  void onHandoff(long newEpoch, io.duet.sync.proto.Message.Handoff h) {
    if (newEpoch != g.epoch() + 1 || !h.newLeader().equals(g.siteId) || g.isLeader()) {
      g.listener.onWarning("unexpected handoff to " + h.newLeader() + " at epoch " + newEpoch);
      g.restartSession("bad handoff");
      return;
    }
    g.persistEpoch(newEpoch, g.siteId);
    g.provenCurrent = true;
    g.peerState = PeerState.IN_SYNC;
    g.lease.startGrantingAfterHandoff();
    g.failover.tookHandoff();
    g.followerSynced = false;
  }

  /**
   * Forced failover: this site leads at epoch+1 although the peer is unreachable. With a mediator
   * it first records that there (the old leader can renew nothing from then on) and serves only
   * once the lease the old leader may still hold has ended: the mediator's waitMs, or a whole lease
   * and its margin when the mediator cannot be reached. Without one it serves at once: nothing
   * could fence the old leader anyway. {@code f} gets a sentence saying which happened.
   */
  void forcePromote(String reason, CompletableFuture<String> f) {
    if (g.isLeader() && g.provenCurrent) {
      f.completeExceptionally(new IllegalStateException("this site already leads"));
      return;
    }
    if (g.sessionUp()) {
      f.completeExceptionally(
          new IllegalStateException("the peer is connected: use a planned switchover"));
      return;
    }
    g.persistEpoch(g.epoch() + 1, g.siteId);
    g.power.clearStale(); // the operator's word: this copy is the one to keep
    g.peerState = PeerState.ABSENT;
    g.listener.onWarning(
        "FORCED FAILOVER to this site at epoch "
            + g.epoch()
            + " ("
            + reason
            + "): writes the old leader acknowledged after losing contact may be lost");
    if (!g.failover.configured()) {
      serveForced(
          g.epoch(),
          f,
          "no mediator is configured: nothing fences the old leader; serving at once");
      return;
    }
    g.provenCurrent = false; // not before the old leader's lease has ended
    long epoch = g.epoch();
    g.failover.forced(
        reason,
        v -> {
          long waitMs = v != null ? v.waitMs() : g.settings.leaseMs() + g.settings.leaseMarginMs();
          String how =
              v != null
                  ? "recorded at the mediator at epoch "
                      + v.epoch()
                      + (waitMs > 0
                          ? "; waited " + waitMs + " ms for the old leader's lease to end"
                          : "; the old leader held no lease")
                  : "the mediator could not be reached (the record follows when it can): waited"
                      + " a whole lease, "
                      + waitMs
                      + " ms, so any lease the old leader held has ended";
          g.timers.schedule(ms(waitMs), () -> g.post(() -> serveForced(epoch, f, how)));
        });
  }

  /** The forced failover at {@code epoch} serves now, unless this site was fenced meanwhile. */
  private void serveForced(long epoch, CompletableFuture<String> f, String how) {
    if (f.isDone()) {
      return;
    }
    g.failover.forcedServing();
    // The mediator may record a higher epoch than ours (it had moved on): still this site's.
    if (!g.isLeader() || g.epoch() < epoch) {
      f.completeExceptionally(
          new IllegalStateException(
              "fenced while waiting to serve: " + g.leaderId() + " leads at epoch " + g.epoch()));
      return;
    }
    g.provenCurrent = true;
    f.complete(how);
  }
}
