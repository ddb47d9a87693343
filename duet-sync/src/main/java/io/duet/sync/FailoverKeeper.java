package io.duet.sync;

import static io.duet.sync.ConsistencyGroupReplicator.ms;

import io.duet.sync.ConsistencyGroupReplicator.PeerState;
import io.duet.sync.MediatorVerdict.Refusal;
import io.duet.sync.proto.Message.Heartbeat;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * Automatic failover through the mediator (replication.md section 3), as one loop-confined state
 * machine beside {@link LeaseKeeper}.
 *
 * <p>The rules, and why they cannot produce split brain:
 *
 * <ul>
 *   <li>The follower takes over only with the mediator's grant, which needs the leader's mediator
 *       lease to have ended plus a grace; and only if, when it lost the session, it was in sync and
 *       the leader's last heartbeat said the leader holds that lease ({@code preElect} off).
 *   <li>The leader serves host I/O only while it holds its mediator lease (counted from before it
 *       asked, minus the drift margin; a recorded survivor renews it too), or the follower has
 *       promised not to take over (pre-election). So a leader cut off from the mediator stops
 *       before the mediator can promote the follower, or a forced failover can serve.
 *   <li>The leader acknowledges writes alone (after its follower's lease ended) only once the
 *       mediator recorded it as the survivor at epoch + 1, or under the follower's promise; the
 *       mediator then refuses the follower's takeover.
 *   <li>Pre-election: a leader whose lease runs low asks the follower (heartbeat flag) to promise
 *       not to take over; it relies on that only after the follower echoed one of its asking
 *       heartbeats, and stops relying the moment it withdraws the request. A follower keeps its
 *       promise until it hears a heartbeat without the flag, so the mediator's return cannot
 *       promote it behind the leader's back.
 * </ul>
 *
 * At most one mediator call is outstanding; each is composed on the loop when sent, so the mediator
 * sees this site's decisions in order.
 */
final class FailoverKeeper {
  private enum Call {
    HEARTBEAT,
    RENEW,
    OUT_OF_SYNC,
    TAKEOVER,
    FORCED
  }

  private final ConsistencyGroupReplicator g;
  private Mediator mediator = Mediator.NONE;

  /** Bumped by every reconfiguration: answers to an older generation are ignored. */
  private int generation;

  private boolean inFlight;
  private long inFlightSinceNanos;

  /** The mediator's record waits for this site's report (registered anew): heartbeat next. */
  private boolean reportFirst;

  private boolean callAgain;
  private boolean ticking;

  // ---- what the mediator last told us
  private MediatorVerdict last;
  private boolean connected;
  private long lastContactNanos;
  private String lastMessage = "";

  // ---- leader
  private long leaseUntilNanos;
  private boolean leaseHeld;

  /**
   * A heartbeat reporting the follower back in sync has left since the last verdict: the mediator
   * may have applied it (and, once our lease ends, promote the follower), so the last verdict's
   * "survivor = this site" no longer counts, answered or not.
   */
  private boolean survivorWithdrawn;

  /** When this site last sent a heartbeat withdrawing the pre-election request (0: never). */
  private long lastWithdrawNanos;

  /** The follower promised not to take over, after our latest withdrawal. */
  private boolean promiseReceived;

  /** Going alone waits for the mediator to record this site as the survivor. */
  private boolean aloneWanted;

  /** A forced failover to report to the mediator. */
  private String forcedReason;

  /**
   * A forced failover that does not serve yet: told once, with the mediator's record (its waitMs:
   * how long the old leader's lease still runs) or with null when the mediator cannot be reached.
   */
  private Consumer<MediatorVerdict> forcedRecorded;

  /** A forced failover holds this site back until the old leader's lease has ended. */
  private boolean forcedHolding;

  // ---- follower
  /** This site promised its leader not to take over (until a heartbeat withdraws the request). */
  private boolean promised;

  private long promiseEchoNanos;

  /** In this session, since in sync, the leader said it holds its mediator lease. */
  private boolean leaseBackedSeen;

  private boolean takeoverPending;
  private long takeoverNotBeforeNanos;

  FailoverKeeper(ConsistencyGroupReplicator g) {
    this.g = g;
  }

  boolean configured() {
    return mediator != Mediator.NONE;
  }

  /** Uses {@code next} from now on; what the old mediator said no longer counts. */
  void configure(Mediator next) {
    if (next == mediator) {
      return;
    }
    mediator = next;
    generation++;
    inFlight = false;
    callAgain = false;
    last = null;
    connected = false;
    leaseHeld = false;
    lastMessage = configured() ? "connecting" : "";
    // A loss that happened under another configuration never leads to a takeover.
    takeoverPending = false;
    if (aloneWanted && !configured()) {
      g.goAlone();
      stopHoldingSessions();
    }
    if (configured() && !ticking) {
      ticking = true;
      scheduleTick();
    }
    if (configured()) {
      callSoon();
    }
  }

  // ---------------------------------------------------------------- questions the replicator asks

  /**
   * Leader: whether it may serve host I/O now (replication.md: no site serves after its lease).
   * Being the recorded survivor is not enough on its own: a survivor cut off from the mediator
   * stops with its lease too (an isolated site), which is what lets a forced failover elsewhere
   * wait it out.
   */
  boolean leaderMayServe() {
    return !configured() || leaseValid() || promiseReceived;
  }

  /** Whether sessions with the peer wait: the leader is asking to be recorded as the survivor. */
  boolean holdsSessions() {
    return aloneWanted;
  }

  /** Whether this site waits for the mediator's decision (ALUA transitioning). */
  boolean deciding() {
    return takeoverPending || aloneWanted || forcedHolding;
  }

  /**
   * Why a planned switchover must wait, or null: with a mediator, it must be reachable and record
   * this group in sync under this site at this epoch, so the new leader's first report is adopted
   * and its lease can follow (replication.md: the mediator agrees).
   */
  String switchoverRefusal() {
    if (!configured()) {
      return null;
    }
    boolean current =
        connected
            && last != null
            && last.epoch() == g.epoch()
            && last.leader().equals(g.siteId)
            && last.inSync();
    return current ? null : "the mediator must be connected and record the group in sync here";
  }

  private boolean leaseValid() {
    return leaseHeld && g.now() - leaseUntilNanos < 0;
  }

  /** The mediator's last answer records this site as the sole survivor at its current epoch. */
  private boolean survivorNow() {
    return last != null
        && !survivorWithdrawn
        && !last.inSync()
        && g.siteId.equals(last.survivor())
        && last.epoch() == g.epoch()
        && g.isLeader();
  }

  // ---------------------------------------------------------------- heartbeats over the link

  /** Leader: the flag of the next heartbeat; withdrawing it ends any reliance on a promise. */
  boolean preElectFlag() {
    boolean ask =
        !configured() || !leaseHeld || leaseUntilNanos - g.now() < ms(g.settings.leaseMs()) / 2;
    if (!ask) {
      lastWithdrawNanos = g.now();
      promiseReceived = false;
    }
    return ask;
  }

  /** Follower: the promise this site's heartbeat carries, and the asking heartbeat it echoes. */
  Heartbeat followerHeartbeat(long now) {
    return new Heartbeat(now, promised ? promiseEchoNanos : 0, promised);
  }

  /** A heartbeat of the current session from the peer. */
  void onPeerHeartbeat(Heartbeat h) {
    if (g.isLeader()) {
      if (h.preElect() && (lastWithdrawNanos == 0 || h.echoNanos() - lastWithdrawNanos > 0)) {
        promiseReceived = true;
      }
      return;
    }
    if (h.preElect()) {
      promised = true;
      promiseEchoNanos = h.senderNanos();
      leaseBackedSeen = false;
    } else {
      promised = false;
      if (g.followerSynced) {
        leaseBackedSeen = true;
      }
    }
  }

  /** The old leader, now following, promises what it just handed off not to take back. */
  void handedOff() {
    promised = true;
    promiseEchoNanos = 0;
    leaseBackedSeen = false;
    leaseHeld = false;
    promiseReceived = false;
  }

  /** The new leader after a handoff: the old one has promised not to take over. */
  void tookHandoff() {
    promiseReceived = true;
    lastWithdrawNanos = 0;
    promised = false;
    takeoverPending = false;
    callSoon();
  }

  // ---------------------------------------------------------------- session events

  /** A session is up: the peer is reachable, so no takeover is asked for any more. */
  void sessionStarted() {
    leaseBackedSeen = false;
    takeoverPending = false;
  }

  /** The session ended; called before the replicator forgets whether the follower was in sync. */
  void sessionLost() {
    boolean eligible =
        configured() && !g.isLeader() && g.followerSynced && leaseBackedSeen && !promised;
    leaseBackedSeen = false;
    if (eligible) {
      takeoverPending = true;
      takeoverNotBeforeNanos = g.now();
      lastMessage = "leader lost: asking the mediator to take over";
      callSoon();
    }
  }

  /**
   * Leader: the follower provably stopped serving. Goes alone now when that needs no record (no
   * mediator, the follower's promise, already the survivor), else once the mediator recorded it.
   */
  void followerGone() {
    if (!configured()) {
      g.goAlone();
    } else if (survivorNow()) {
      g.goAlone();
    } else if (promiseReceived) {
      // Pre-elected: the new epoch tells the mediator, when it returns, that we went on alone.
      g.persistEpoch(g.epoch() + 1, g.siteId);
      g.goAlone();
    } else {
      aloneWanted = true;
      lastMessage = "follower lost: recording this site as the survivor";
      callSoon();
    }
  }

  /** This site stopped leading (fenced): nothing it asked as leader matters any more. */
  void fenced() {
    if (aloneWanted) {
      // Called inside a handshake or a verdict: open the held session once that has finished.
      aloneWanted = false;
      g.post(this::reopenHeldSession);
    }
    leaseHeld = false;
    promiseReceived = false;
    forcedReason = null;
    forcedHolding = false;
    tellForced(null);
  }

  /**
   * An operator forced this site to lead: tell the mediator when it can be reached. With {@code
   * recorded}, this site holds back (transitioning) until the caller says it serves ({@link
   * #forcedServing}); {@code recorded} hears the mediator's record, or null once it is unreachable.
   */
  void forced(String reason, Consumer<MediatorVerdict> recorded) {
    forcedReason = reason;
    forcedRecorded = recorded;
    forcedHolding = recorded != null;
    takeoverPending = false;
    aloneWanted = false;
    callSoon();
  }

  /** The forced failover waited what it had to: this site serves. */
  void forcedServing() {
    forcedHolding = false;
  }

  private void tellForced(MediatorVerdict v) {
    Consumer<MediatorVerdict> c = forcedRecorded;
    forcedRecorded = null;
    if (c != null) {
      c.accept(v);
    }
  }

  // ---------------------------------------------------------------- calls

  private void scheduleTick() {
    g.timers.schedule(ms(g.settings.heartbeatIntervalMs()), () -> g.post(this::tick));
  }

  private void tick() {
    if (!configured() || g.isClosed()) {
      ticking = false;
      return;
    }
    scheduleTick();
    if (inFlight && g.now() - inFlightSinceNanos > ms(g.settings.peerTimeoutMs())) {
      // An adapter that never answers must not silence this site forever.
      generation++;
      inFlight = false;
      noContact("no answer within " + g.settings.peerTimeoutMs() + " ms");
    }
    callSoon();
  }

  private void callSoon() {
    if (!configured() || g.isClosed()) {
      return;
    }
    if (inFlight) {
      callAgain = true;
      return;
    }
    Call call = nextCall();
    if (call == null) {
      return;
    }
    long sentNanos = g.now();
    long epoch = g.epoch();
    if (call == Call.HEARTBEAT && g.isLeader() && reportedInSync()) {
      survivorWithdrawn = true;
    }
    CompletableFuture<MediatorVerdict> f;
    try {
      f =
          switch (call) {
            case HEARTBEAT -> mediator.heartbeat(epoch, g.leaderId(), reportedInSync());
            case RENEW -> mediator.renewLease(epoch);
            case OUT_OF_SYNC -> mediator.outOfSync(epoch);
            case TAKEOVER -> mediator.takeover(epoch);
            case FORCED -> mediator.forcedFailover(epoch, forcedReason);
          };
    } catch (RuntimeException e) {
      f = CompletableFuture.failedFuture(e);
    }
    inFlight = true;
    inFlightSinceNanos = sentNanos;
    int gen = generation;
    f.whenComplete(
        (v, e) ->
            g.post(
                () -> {
                  if (gen != generation || g.isClosed()) {
                    return;
                  }
                  inFlight = false;
                  if (e != null) {
                    noContact(rootMessage(e));
                  } else {
                    answered(call, sentNanos, v);
                  }
                  if (callAgain) {
                    callAgain = false;
                    callSoon();
                  }
                }));
  }

  /** The call the current state needs, or null when nothing is due. */
  private Call nextCall() {
    if (forcedReason != null && g.isLeader()) {
      return Call.FORCED;
    }
    if (reportFirst) {
      return Call.HEARTBEAT;
    }
    if (g.isLeader()) {
      if (aloneWanted) {
        return recordMatches() ? Call.OUT_OF_SYNC : Call.HEARTBEAT;
      }
      // A leader not yet proved current must not renew: that would hold off a takeover while
      // it serves nothing.
      boolean recordNamesUs =
          last != null && last.epoch() == g.epoch() && last.leader().equals(g.siteId);
      if (!g.provenCurrent || !recordNamesUs) {
        return Call.HEARTBEAT;
      }
      if (reportedInSync() && !last.inSync()) {
        // Back in sync: reporting it ends the survivor's right to serve without a lease, so
        // hold a fresh lease first (one more round trip) and report right after.
        return leaseUntilNanos - g.now() > ms(g.settings.leaseMs()) / 2 && leaseHeld
            ? Call.HEARTBEAT
            : Call.RENEW;
      }
      return Call.RENEW;
    }
    if (takeoverPending) {
      return g.now() - takeoverNotBeforeNanos >= 0 ? Call.TAKEOVER : null;
    }
    return Call.HEARTBEAT;
  }

  /** Leader: the record names this site as leader at our epoch, in sync if we are. */
  private boolean recordMatches() {
    return last != null
        && last.epoch() == g.epoch()
        && last.leader().equals(g.siteId)
        && (last.inSync() || !reportedInSync());
  }

  private boolean reportedInSync() {
    if (g.isLeader()) {
      return g.peerState == PeerState.IN_SYNC;
    }
    return g.sessionUp() && g.followerSynced;
  }

  private void noContact(String why) {
    // No warning here: the status carries connectivity, and the node turns its changes into
    // cg.mediator.connected / cg.mediator.lost events.
    connected = false;
    // "no decision", not "unreachable": the call may have reached a mediator that refused it
    // (a user bound to another site, 403), and the operator must see which.
    lastMessage = "no decision: " + why;
    tellForced(null); // the record is still sent when the mediator returns
  }

  private void answered(Call call, long sentNanos, MediatorVerdict v) {
    if (v.epoch() < g.epoch() && call != Call.FORCED) {
      // The mediator records an epoch older than one this site has seen: a record it lost and
      // had registered again, or restored from an older copy. Nothing it grants from there
      // counts (no lease, no survivor, no record of going alone); heartbeats report our epoch
      // until it has caught up.
      connected = true;
      lastContactNanos = g.now();
      last = v;
      lastMessage =
          "the mediator records epoch "
              + v.epoch()
              + ", older than this site's "
              + g.epoch()
              + ": its answers do not count until it catches up";
      reportFirst = true; // a heartbeat carries our epoch to it
      if (call == Call.TAKEOVER) {
        retryTakeoverLater();
      }
      return;
    }
    connected = true;
    lastContactNanos = g.now();
    if (v.refusal() == Refusal.UNCONFIRMED) {
      reportFirst = true;
      callAgain = true;
    } else if (call == Call.HEARTBEAT) {
      reportFirst = false;
    }
    last = v; // the answer to our latest call (one at a time): what the mediator holds now
    survivorWithdrawn = false;
    lastMessage = v.message();
    if (v.granted() && v.leaseMs() > 0 && g.isLeader()) {
      // Counted from before the request left, minus the drift margin: it ends here first.
      leaseUntilNanos = sentNanos + ms(v.leaseMs()) - ms(g.settings.leaseMarginMs());
      leaseHeld = v.leader().equals(g.siteId);
    }
    if (call == Call.RENEW && v.granted() && g.isLeader() && reportedInSync() && !v.inSync()) {
      callAgain = true; // the lease is fresh: report back in sync now
    }
    switch (call) {
      case TAKEOVER -> takeoverAnswered(v);
      case OUT_OF_SYNC -> outOfSyncAnswered(v);
      case FORCED -> {
        if (v.granted()) {
          forcedReason = null;
          tellForced(v);
        }
      }
      case HEARTBEAT, RENEW -> {}
    }
    learn(v);
    if (aloneWanted && survivorNow()) {
      g.goAlone();
      stopHoldingSessions();
    }
    if (!g.provenCurrent && survivorNow() && !g.sessionUp() && !g.power.stale() && !forcedHolding) {
      // Restarted as the recorded survivor: nobody else may serve, so this site is current
      // (unless it lost its page cache while its peer, back in sync, held the newer writes: a
      // record the mediator could not hear corrected then still names this site).
      g.listener.onWarning(
          "the mediator records this site as the survivor at epoch " + g.epoch() + "; serving");
      g.provenCurrent = true;
      g.peerState = PeerState.ABSENT;
    }
  }

  /**
   * The record cannot decide yet (it waits for both sites' epochs, or lags ours): the report goes
   * first, the takeover is asked again a heartbeat later.
   */
  private void retryTakeoverLater() {
    long retryMs = g.settings.heartbeatIntervalMs();
    takeoverNotBeforeNanos = g.now() + ms(retryMs);
    g.timers.schedule(ms(retryMs), () -> g.post(this::callSoon));
  }

  private void takeoverAnswered(MediatorVerdict v) {
    if (v.granted()) {
      takeoverPending = false;
      return; // learn() adopts the new epoch with this site as leader
    }
    if (v.refusal() == Refusal.LEASE_VALID) {
      takeoverNotBeforeNanos = g.now() + ms(Math.max(1, v.waitMs()));
      g.timers.schedule(ms(Math.max(1, v.waitMs())), () -> g.post(this::callSoon));
      return;
    }
    if (v.refusal() == Refusal.UNCONFIRMED) {
      retryTakeoverLater();
      return;
    }
    takeoverPending = false;
    g.listener.onWarning("takeover refused by the mediator: " + v.message());
  }

  private void outOfSyncAnswered(MediatorVerdict v) {
    if (!v.granted() && v.refusal() != Refusal.CONFLICT && v.refusal() != Refusal.UNCONFIRMED) {
      // Someone else is recorded (the follower took over, or an operator forced it): fenced by
      // the epoch learnt next; the session the peer offers then brings the resync.
      stopHoldingSessions();
      g.listener.onWarning("the mediator refused to record this site as survivor: " + v.message());
    }
  }

  /** Adopts what the mediator records when it is newer than what this site holds. */
  private void learn(MediatorVerdict v) {
    if (v.epoch() <= g.epoch()) {
      return;
    }
    UUID leader = v.leader();
    boolean wasLeader = g.isLeader();
    if (leader.equals(g.siteId)) {
      // Recorded as leader at a newer epoch: a takeover granted to us, our out-of-sync record,
      // or either of them answered to an earlier incarnation of this site.
      g.persistEpoch(v.epoch(), leader);
      if (!wasLeader) {
        // Took over: the old leader's lease has ended; this site serves alone from here on.
        g.listener.onWarning(
            "took over as leader at epoch "
                + v.epoch()
                + ": the leader was lost ("
                + v.message()
                + ")");
        g.followerSynced = false;
        g.lease.revoke();
        // A copy that lost writes in a power loss leads nothing before its peer resynced it:
        // the next session hands the leadership back (see sessionEstablished).
        g.provenCurrent = !g.power.stale();
        g.peerState = PeerState.ABSENT;
        takeoverPending = false;
      }
    } else {
      g.adoptEpoch(v.epoch(), leader);
      if (wasLeader) {
        fenced();
      }
    }
    if (g.sessionUp()) {
      g.restartSession("the mediator records epoch " + v.epoch());
    }
  }

  private void stopHoldingSessions() {
    aloneWanted = false;
    g.post(this::reopenHeldSession);
  }

  private void reopenHeldSession() {
    if (!aloneWanted) {
      g.session.reopen();
    }
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.toString() : t.getMessage();
  }

  // ---------------------------------------------------------------- status

  ReplicationStatus.MediatorStatus status() {
    if (!configured()) {
      return ReplicationStatus.MediatorStatus.NONE;
    }
    boolean fresh =
        connected && g.now() - lastContactNanos < ms(3 * g.settings.heartbeatIntervalMs() + 2000);
    boolean inQuorum = fresh && last != null && last.epoch() == g.epoch();
    boolean preElected = g.isLeader() ? promiseReceived && !leaseValid() : promised;
    // Whole seconds: the status is published after every loop event and compared for change,
    // so a value that moved every nanosecond would report a change each time.
    long remaining = leaseValid() ? (leaseUntilNanos - g.now()) / 1_000_000_000L * 1000 : 0;
    return new ReplicationStatus.MediatorStatus(
        true, fresh, inQuorum, preElected, remaining, lastMessage);
  }
}
