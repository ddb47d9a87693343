package io.duet.testkit.sim;

import io.duet.sync.ReplicationStatus;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The guarantees checked during and after a run (replication.md section 1): G1 no acknowledged
 * write lost, G3 epochs only grow and per epoch at most one site acknowledges writes the other
 * lacks (and only as its leader), G4 identical replicas with empty dirty maps after healing. G2 is
 * {@link LinearizabilityChecker}'s; G5 is checked by {@link SimWorld} as it heals.
 */
final class Invariants {
  private final List<String> violations = new ArrayList<>();
  private final Map<String, Long> lastEpoch = new HashMap<>();

  /** Epoch -> the site that acknowledged a write alone in it. */
  private final Map<Long, String> aloneAcks = new HashMap<>();

  private final Map<Long, Op> writesByValue = new HashMap<>();

  /** The UNMAP and WRITE ZEROES of the run: their blocks hold 0, which names none of them. */
  private final List<Op> zeroWrites = new ArrayList<>();

  final PowerLossLedger powerLoss = new PowerLossLedger(writesByValue);
  long aloneAckCount;

  /**
   * An operator's forced failover: {@code to} leads; {@code from}'s work since losing contact is
   * given up.
   */
  private record Forced(String to, String from, long lostContactNanos) {}

  private Forced forced;
  private long lastGivenUpAckNanos = Long.MIN_VALUE;
  private long firstForcedAckNanos = Long.MAX_VALUE;

  void violation(String what) {
    if (violations.size() < 50) {
      violations.add(what);
    }
  }

  List<String> violations() {
    return violations;
  }

  void onWriteInvoked(Op op) {
    writesByValue.put(op.value, op);
  }

  /** Marks {@code op} as an UNMAP or WRITE ZEROES (call right after {@link #onWriteInvoked}). */
  void onZeroWriteInvoked(Op op) {
    zeroWrites.add(op);
  }

  /** G3: a site's epoch never goes back, not even across its restarts. */
  void onStatus(SimSite site, ReplicationStatus s) {
    Long before = lastEpoch.put(site.name, s.epoch());
    if (before != null && s.epoch() < before) {
      violation("G3: site " + site.name + " went back from epoch " + before + " to " + s.epoch());
    }
  }

  /**
   * G3 when {@code site} acknowledges {@code op}: if the peer lacks it (its blocks hold an older
   * value), this is an acknowledgement alone, allowed only to the epoch's leader and to one site
   * per epoch.
   */
  void onWriteAcked(SimSite site, SimSite peer, Op op, SimMediator mediator) {
    if (forced != null && site.name.equals(forced.from()) && givenUp(op)) {
      // Lost by the operator's decision; what must hold is that it ended before the forced site
      // acknowledged anything (checked at the end).
      lastGivenUpAckNanos = Math.max(lastGivenUpAckNanos, op.completeNanos);
      return;
    }
    if (forced != null && site.name.equals(forced.to())) {
      firstForcedAckNanos = Math.min(firstForcedAckNanos, op.completeNanos);
    }
    ReplicationStatus s = site.status();
    if (s == null || peer.lastPowerLossNanos >= op.invokeNanos || !peerLacks(peer, op)) {
      // A peer that lost power since the write began may have lost its applied copy with its
      // page cache: what it holds now says nothing about whether this site acknowledged alone.
      return;
    }
    aloneAckCount++;
    if (!s.leaderId().equals(site.id)) {
      violation(
          "G3: site "
              + site.name
              + " acknowledged "
              + op
              + " alone as a follower at epoch "
              + s.epoch());
    }
    var record = mediator == null ? null : mediator.view();
    // A record older than the site's epoch is stale: the sites moved on over their link (a
    // switchover, a pre-elected leader going on alone) while the mediator was out of reach.
    if (record != null
        && !record.inSync()
        && !site.id.equals(record.survivor())
        && record.epoch() >= s.epoch()) {
      violation(
          "G3: site "
              + site.name
              + " acknowledged "
              + op
              + " alone while the mediator "
              + "records survivor "
              + record.survivor()
              + " at epoch "
              + record.epoch());
    }
    String other = aloneAcks.putIfAbsent(s.epoch(), site.name);
    if (other != null && !other.equals(site.name)) {
      violation(
          "G3: both sites acknowledged writes alone in epoch "
              + s.epoch()
              + " ("
              + other
              + " before, now "
              + site.name
              + " with "
              + op
              + ")");
    }
  }

  /**
   * An operator forces {@code to} to lead: everything {@code from} completed since {@code
   * lostContactNanos} is given up (a forced failover accepts that loss); from now on the checks are
   * that {@code from} acknowledged nothing once {@code to} did, and G1/G2 on the rest.
   */
  void forcedFailover(SimSite to, SimSite from, long lostContactNanos, History history) {
    forced = new Forced(to.name, from.name, lostContactNanos);
    for (Op op : history.ops()) {
      if (op.site.equals(from.name) && givenUp(op)) {
        op.discarded = true;
      }
    }
  }

  /** Marks {@code op} given up when the forced failover covers it (call as it completes). */
  void onCompleted(Op op) {
    powerLoss.onCompleted(op);
    if (forced != null && op.site.equals(forced.from()) && givenUp(op)) {
      op.discarded = true;
    }
  }

  /**
   * The old leader's operations from losing contact until the forced site first acknowledged a
   * write (later ones run after the old leader was fenced and resynced: they count again).
   */
  private boolean givenUp(Op op) {
    boolean afterContact =
        op.completeNanos != Op.NEVER && op.completeNanos >= forced.lostContactNanos()
            || op.invokeNanos >= forced.lostContactNanos();
    return afterContact && op.invokeNanos < firstForcedAckNanos;
  }

  /** G3 across a forced failover: the old leader stopped before the forced one acknowledged. */
  void checkForcedFailover() {
    if (forced != null && lastGivenUpAckNanos >= firstForcedAckNanos) {
      violation(
          "G3: "
              + forced.from()
              + " acknowledged a write at "
              + Op.ms(lastGivenUpAckNanos)
              + " although the forced site "
              + forced.to()
              + " acknowledged one at "
              + Op.ms(firstForcedAckNanos));
    }
  }

  /** Whether the peer's disk (even a crashed peer's: its page cache survives) lacks the write. */
  private boolean peerLacks(SimSite peer, Op op) {
    for (int i = 0; i < op.blocks; i++) {
      long block = op.firstBlock + i;
      long held = BlockData.decode(peer.disk.block(block), 0, block);
      if (held == op.registerValue() || held == 0 && zeroedSince(block, op.invokeNanos)) {
        continue; // its value, or zeros an UNMAP or WRITE ZEROES may have left there since
      }
      Op later = writesByValue.get(held);
      if (later == null || later.invokeNanos <= op.invokeNanos) {
        return true; // the peer holds something older than this write
      }
    }
    return false;
  }

  /**
   * Whether an UNMAP or WRITE ZEROES of {@code block} was invoked at or after {@code fromNanos}.
   */
  private boolean zeroedSince(long block, long fromNanos) {
    for (Op z : zeroWrites) {
      if (z.covers(block) && z.invokeNanos >= fromNanos) {
        return true;
      }
    }
    return false;
  }

  /**
   * G1 on the final content: no block may hold a value whose write completed before another
   * acknowledged write of that block was even invoked (that later write would be lost).
   */
  void checkNothingLost(History history, SimDisk disk, String site) {
    Map<Long, Long> latestInvokeOfAcked = new HashMap<>();
    for (Op op : history.ops()) {
      if (op.kind == Op.Kind.WRITE && op.ok() && !op.discarded) {
        for (int i = 0; i < op.blocks; i++) {
          latestInvokeOfAcked.merge(op.firstBlock + i, op.invokeNanos, Math::max);
        }
      }
    }
    for (Map.Entry<Long, Long> e : latestInvokeOfAcked.entrySet()) {
      long block = e.getKey();
      long held = BlockData.decode(disk.block(block), 0, block);
      Op holder = writesByValue.get(held);
      if (held == BlockData.GARBAGE && powerLoss.tornTolerated(block, Long.MAX_VALUE, history)) {
        continue; // torn by a power loss that excused its write, and not written since
      }
      if (held == BlockData.GARBAGE || (holder == null && held != 0)) {
        violation("G1: site " + site + " block " + block + " holds garbage or an unknown value");
        continue;
      }
      // An indeterminate write (completion NEVER) may have taken effect at any time: never late.
      // Zeros are the initial content's, or those of the latest UNMAP or WRITE ZEROES that counts.
      long heldDone = held == 0 ? zeroedDone(block) : holder.completeNanos;
      if (heldDone < e.getValue()) {
        violation(
            "G1: site "
                + site
                + " block "
                + block
                + " holds "
                + (holder == null ? "its initial zeros" : holder.toString())
                + " although a write acknowledged later was invoked at "
                + Op.ms(e.getValue()));
      }
    }
  }

  /**
   * When the latest UNMAP or WRITE ZEROES of {@code block} completed (never: MAX): zeros may be
   * its, even if a power loss excused it (excused writes may survive; a value's holder counts the
   * same way).
   */
  private long zeroedDone(long block) {
    long done = Long.MIN_VALUE;
    for (Op z : zeroWrites) {
      if (z.covers(block)) {
        done = Math.max(done, z.ok() ? z.completeNanos : Op.NEVER);
      }
    }
    return done;
  }

  /** G1's durability half: see {@link PowerLossLedger#check}. */
  void checkFlushesKept(History history) {
    powerLoss.check(history).forEach(this::violation);
  }

  /** G4: both replicas byte-identical, nothing dirty, nothing in flight. */
  void checkConverged(SimSite a, SimSite b) {
    for (long block = 0; block < a.disk.blockCount(); block++) {
      if (!java.util.Arrays.equals(a.disk.block(block), b.disk.block(block))) {
        violation(
            "G4: block "
                + block
                + " differs: A holds "
                + Long.toHexString(BlockData.decode(a.disk.block(block), 0, block))
                + ", B holds "
                + Long.toHexString(BlockData.decode(b.disk.block(block), 0, block)));
        break;
      }
    }
    for (SimSite s : List.of(a, b)) {
      if (s.dirties.stream().anyMatch(d -> d.dirtyCount() != 0)) {
        violation("G4: site " + s.name + " still has dirty regions " + s.dirtyText());
      }
      for (SimActivityLog log : s.logs) {
        if (log.inFlight() != 0) {
          violation(
              "G4: site "
                  + s.name
                  + " activity log still has "
                  + log.inFlight()
                  + " writes in flight");
        }
        if (log.unbalanced != 0) {
          violation(
              "site "
                  + s.name
                  + " activity log: "
                  + log.unbalanced
                  + " endWrite calls without a beginWrite, first from "
                  + log.firstUnbalanced);
        }
      }
      if (!s.inSyncAndServing()) {
        violation("G4: site " + s.name + " not IN_SYNC and SERVING: " + s.status());
      }
    }
  }
}
