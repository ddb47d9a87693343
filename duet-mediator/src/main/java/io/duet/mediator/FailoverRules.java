package io.duet.mediator;

import io.duet.mediator.Decision.Reason;
import io.duet.mediator.Request.ForcedFailover;
import io.duet.mediator.Request.Heartbeat;
import io.duet.mediator.Request.OutOfSync;
import io.duet.mediator.Request.PreElect;
import io.duet.mediator.Request.RenewLease;
import io.duet.mediator.Request.Takeover;
import java.util.UUID;

/**
 * The mediator's decisions (replication.md section 3) as a pure function: record, lease and request
 * in, next record, lease and verdict out. Nothing here touches a disk or a clock, so every row can
 * be tested with numbers; {@link MediatorState} makes the result durable before anyone hears of it.
 *
 * <p>The safety argument in one place: a follower is promoted only while the record is in sync at
 * the epoch the follower holds, no pre-election is recorded, and the leader's last lease (counted
 * from when the mediator received the renewal, which is after the leader started counting) ended at
 * least {@code graceMs} ago. A leader stops acknowledging writes before its own count ends, so by
 * then it has stopped.
 */
final class FailoverRules {
  private final long leaseNanos;
  private final long graceNanos;
  private final long leaseMs;

  FailoverRules(long leaseMs, long graceMs) {
    if (leaseMs < 1 || graceMs < 0) {
      throw new IllegalArgumentException("lease must be positive, grace not negative");
    }
    this.leaseMs = leaseMs;
    this.leaseNanos = leaseMs * 1_000_000L;
    this.graceNanos = graceMs * 1_000_000L;
  }

  long leaseMs() {
    return leaseMs;
  }

  /** Lease expiry to assume at start: any lease granted before a crash may still run. */
  long leaseAfterRestart(long nowNanos) {
    return nowNanos + leaseNanos;
  }

  /** The outcome of one request: the record and lease to keep, and the verdict to answer. */
  record Step(
      Relationship next,
      long leaseUntilNanos,
      boolean granted,
      Reason reason,
      String message,
      long waitMs,
      long leaseMs) {}

  Step apply(Relationship r, long leaseUntilNanos, Request req, long nowNanos) {
    if (r.pending() != null) {
      return unconfirmed(r, leaseUntilNanos, req, nowNanos);
    }
    long reported = highestReported(r);
    if (reported > r.epoch() && !(req instanceof Heartbeat) && !(req instanceof ForcedFailover)) {
      // A site reported an epoch this record never saw and could not adopt: the record lags what
      // the sites did (the mediator was rebuilt from an older backup of its records, or missed a
      // hand-over). Granting from it could hand out that very epoch again, to a site lacking the
      // writes acknowledged in it (simulation seed 2888917800645480864), or renew a lease the
      // sites have moved past. Nothing is decided until that site's heartbeat gets its epoch
      // recorded; heartbeats and an operator's forced failover go on as always.
      return refuse(
          r,
          leaseUntilNanos,
          Reason.UNCONFIRMED,
          "a site reported epoch "
              + reported
              + ", above the recorded "
              + r.epoch()
              + ": this record lags what the sites did (restored from an older copy?) and decides"
              + " nothing until that epoch is reported in a heartbeat and recorded");
    }
    return switch (req) {
      case Heartbeat h -> heartbeat(r, leaseUntilNanos, h, nowNanos);
      case RenewLease l -> renew(r, leaseUntilNanos, l, nowNanos);
      case OutOfSync o -> outOfSync(r, leaseUntilNanos, o, nowNanos);
      case Takeover t -> takeover(r, leaseUntilNanos, t, nowNanos);
      case PreElect p -> preElect(r, leaseUntilNanos, p);
      case ForcedFailover f -> forced(r, leaseUntilNanos, f, nowNanos);
    };
  }

  /**
   * A record registered anew may lag what the sites did since (the mediator lost the one it had),
   * so it decides nothing for either site before both have reported their epochs: no out-of-sync
   * record, takeover or pre-election, no survivor. Heartbeats collect the reports; the last one
   * confirms the record at the highest epoch reported, out of sync (its leader the survivor) if any
   * report at that epoch says so. Leases follow the record's leader as usual, and an operator's
   * forced failover is recorded as always.
   */
  private Step unconfirmed(Relationship r, long lease, Request req, long now) {
    return switch (req) {
      case Heartbeat h -> confirm(r, lease, h);
      case RenewLease l ->
          r.pending().awaiting().contains(l.site())
              ? refuseUnconfirmed(r, lease) // report first: the refusal tells it to heartbeat
              : renew(r, lease, l, now);
      case ForcedFailover f -> forced(r.withPending(null), lease, f, now);
      case OutOfSync o -> refuseUnconfirmed(r, lease);
      case Takeover t -> refuseUnconfirmed(r, lease);
      case PreElect p -> refuseUnconfirmed(r, lease);
    };
  }

  private Step confirm(Relationship r, long lease, Heartbeat h) {
    Relationship.Report mine = new Relationship.Report(h.epoch(), h.leader(), h.inSync());
    Relationship.Report best = r.pending().best();
    if (best != null && best.epoch() == mine.epoch() && !best.leader().equals(mine.leader())) {
      return refuse(
          r,
          lease,
          Reason.CONFLICT,
          "the sites name different leaders at epoch " + mine.epoch() + "; nothing is confirmed");
    }
    if (best == null || mine.epoch() > best.epoch()) {
      best = mine;
    } else if (mine.epoch() == best.epoch() && !mine.inSync()) {
      best = mine; // either report out of sync at the top epoch: out of sync it is
    }
    java.util.Set<UUID> awaiting = new java.util.HashSet<>(r.pending().awaiting());
    awaiting.remove(h.site());
    if (!awaiting.isEmpty()) {
      return grant(
          r.withPending(new Relationship.Pending(awaiting, best)),
          lease,
          "record registered anew: waiting for the other site to report its epoch");
    }
    Relationship confirmed =
        r.withPending(null)
            .withEpoch(
                Math.max(r.epoch(), best.epoch()),
                best.leader(),
                best.inSync(),
                best.inSync() ? null : best.leader());
    return grant(confirmed, lease, "record confirmed by both sites at epoch " + confirmed.epoch());
  }

  /** The highest epoch any site reported in a request here (recorded or not). */
  private static long highestReported(Relationship r) {
    long max = Long.MIN_VALUE;
    for (Relationship.Contact c : r.contacts().values()) {
      max = Math.max(max, c.reportedEpoch());
    }
    return max;
  }

  private static Step refuseUnconfirmed(Relationship r, long lease) {
    return refuse(
        r,
        lease,
        Reason.UNCONFIRMED,
        "the record was registered anew and waits for "
            + r.pending().awaiting()
            + " to report an epoch; it decides nothing before");
  }

  private Step heartbeat(Relationship r, long lease, Heartbeat h, long now) {
    if (h.epoch() < r.epoch()) {
      return refuse(r, lease, Reason.STALE_EPOCH, staleMessage(r, h.epoch()));
    }
    if (h.epoch() == r.epoch()) {
      if (!h.leader().equals(r.leader())) {
        return refuse(
            r,
            lease,
            Reason.CONFLICT,
            "epoch " + r.epoch() + " is recorded with leader " + r.leader() + ", not as reported");
      }
      boolean survivorResynced =
          h.inSync() && !r.inSync() && h.site().equals(r.leader()) && h.site().equals(r.survivor());
      if (survivorResynced) {
        // Only the survivor knows when its peer has caught up (it resynced it): from now on a
        // takeover is possible again. The epoch stays: the peer adopted it before the resync.
        return grant(r.withEpoch(r.epoch(), r.leader(), true, null), lease, "back in sync");
      }
      // Any other difference is a view that lags the record (a follower still resyncing, the
      // leader about to report): the record only changes through the requests that decide.
      return grant(r, lease, "current");
    }
    // A higher epoch: the sites moved on while they could not tell the mediator.
    if (h.inSync()) {
      // In sync needs both sites over their link (resync done, switchover): safe to adopt.
      if (!r.isMember(h.leader())) {
        return refuse(r, lease, Reason.CONFLICT, "leader " + h.leader() + " is not a member");
      }
      return grant(r.withEpoch(h.epoch(), h.leader(), true, null), lease, "adopted epoch");
    }
    boolean recordedLeaderGoesOn =
        h.site().equals(h.leader())
            && h.site().equals(r.leader())
            && (r.inSync() || h.site().equals(r.survivor()));
    if (recordedLeaderGoesOn) {
      // The pre-elected leader continued alone while the mediator was out of reach.
      return grant(r.withEpoch(h.epoch(), h.site(), false, h.site()), lease, "adopted epoch");
    }
    boolean handedOver =
        h.site().equals(h.leader())
            && !h.site().equals(r.leader())
            && r.isMember(h.site())
            && r.preElected() == null;
    if (handedOver && now - (lease + graceNanos) >= 0) {
      // The recorded leader handed its role over without telling us (a switchover, or a leader
      // restarted after power loss handing the resync to its follower) and the new leader lost
      // it before reporting in sync. Only a site the old leader named (or an operator) reaches
      // such an epoch; once the old leader's lease has run out it serves nothing, so the new
      // leader may be recorded as the survivor. The same holds when the old leader was recorded
      // as the survivor: it is the one that handed over (refusing would leave the new leader
      // holding its sessions for a record it can never get).
      return grant(r.withEpoch(h.epoch(), h.site(), false, h.site()), lease, "adopted handover");
    }
    return refuse(
        r,
        lease,
        Reason.CONFLICT,
        "epoch "
            + h.epoch()
            + " out of sync led by "
            + h.leader()
            + " was never recorded here; only a forced failover records that");
  }

  private Step renew(Relationship r, long lease, RenewLease l, long now) {
    Step wrong = leaderCheck(r, lease, l.site(), l.epoch());
    if (wrong != null) {
      return wrong;
    }
    return new Step(
        r.withPreElected(null), now + leaseNanos, true, Reason.NONE, "lease renewed", 0, leaseMs);
  }

  private Step outOfSync(Relationship r, long lease, OutOfSync o, long now) {
    if (!r.inSync() && o.site().equals(r.survivor())) {
      // Already recorded (a retry after a lost answer, or a later loss): renew and confirm.
      return new Step(r, now + leaseNanos, true, Reason.NONE, "already survivor", 0, leaseMs);
    }
    Step wrong = leaderCheck(r, lease, o.site(), o.epoch());
    if (wrong != null) {
      return wrong;
    }
    Relationship next = r.withEpoch(r.epoch() + 1, o.site(), false, o.site());
    return new Step(next, now + leaseNanos, true, Reason.NONE, "out of sync recorded", 0, leaseMs);
  }

  private Step takeover(Relationship r, long lease, Takeover t, long now) {
    UUID site = t.site();
    if (!r.inSync() && site.equals(r.survivor())) {
      return grant(r, lease, "already survivor");
    }
    if (site.equals(r.leader())) {
      return refuse(r, lease, Reason.IS_LEADER, "this site leads; it records out of sync instead");
    }
    if (!r.inSync()) {
      return refuse(
          r,
          lease,
          Reason.OUT_OF_SYNC,
          "the leader continues alone since epoch "
              + r.epoch()
              + "; this site lacks its writes and only a forced failover can promote it");
    }
    Step epochWrong = epochCheck(r, lease, t.epoch());
    if (epochWrong != null) {
      return epochWrong;
    }
    if (r.preElected() != null) {
      return refuse(
          r,
          lease,
          Reason.PRE_ELECTED,
          "the leader was pre-elected as survivor; only a forced failover can promote this site");
    }
    long remaining = lease + graceNanos - now;
    if (remaining > 0) {
      long waitMs = (remaining + 999_999) / 1_000_000;
      return new Step(
          r,
          lease,
          false,
          Reason.LEASE_VALID,
          "the leader's lease (plus the safety margin) runs for " + waitMs + " ms more",
          waitMs,
          0);
    }
    Relationship next = r.withEpoch(r.epoch() + 1, site, false, site);
    return grant(next, lease, "takeover granted");
  }

  private Step preElect(Relationship r, long lease, PreElect p) {
    if (!r.inSync()) {
      return refuse(r, lease, Reason.OUT_OF_SYNC, "out of sync: the survivor is already recorded");
    }
    Step epochWrong = epochCheck(r, lease, p.epoch());
    if (epochWrong != null) {
      return epochWrong;
    }
    return grant(r.withPreElected(r.leader()), lease, "leader pre-elected");
  }

  private Step forced(Relationship r, long lease, ForcedFailover f, long now) {
    // An operator's decision is recorded, never refused; the site uses the epoch answered, which
    // is above anything recorded, so the other site is fenced by it: no renewal of the old
    // leader's lease is granted from now on. The lease it holds still runs, though: waitMs tells
    // the forced site how long to hold back before serving (lease plus grace, as for a takeover),
    // unless it led already under that lease.
    long next = Math.max(r.epoch() + 1, f.epoch());
    Relationship forced = r.withEpoch(next, f.site(), false, f.site());
    long remaining = f.site().equals(r.leader()) ? 0 : lease + graceNanos - now;
    long waitMs = remaining > 0 ? (remaining + 999_999) / 1_000_000 : 0;
    return new Step(
        forced,
        0,
        true,
        Reason.NONE,
        "forced failover: "
            + f.reason()
            + (waitMs > 0
                ? "; the old leader's lease (plus the margin) runs " + waitMs + " ms more"
                : ""),
        waitMs,
        0);
  }

  /** Null when {@code site} leads at the recorded epoch; else the refusal. */
  private Step leaderCheck(Relationship r, long lease, UUID site, long epoch) {
    if (!site.equals(r.leader())) {
      Reason reason = !r.inSync() ? Reason.FENCED : Reason.NOT_LEADER;
      return refuse(r, lease, reason, "only the leader " + r.leader() + " may do this");
    }
    return epochCheck(r, lease, epoch);
  }

  private Step epochCheck(Relationship r, long lease, long epoch) {
    if (epoch < r.epoch()) {
      return refuse(r, lease, Reason.STALE_EPOCH, staleMessage(r, epoch));
    }
    if (epoch > r.epoch()) {
      return refuse(
          r,
          lease,
          Reason.CONFLICT,
          "epoch " + epoch + " is ahead of the recorded " + r.epoch() + "; heartbeat first");
    }
    return null;
  }

  private static String staleMessage(Relationship r, long epoch) {
    return "epoch "
        + epoch
        + " is stale: the mediator records epoch "
        + r.epoch()
        + (r.inSync() ? " in sync" : " with survivor " + r.survivor());
  }

  private static Step grant(Relationship next, long lease, String message) {
    return new Step(next, lease, true, Reason.NONE, message, 0, 0);
  }

  private static Step refuse(Relationship r, long lease, Reason reason, String message) {
    return new Step(r, lease, false, reason, message, 0, 0);
  }
}
