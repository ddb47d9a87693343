package io.duet.testkit.sim;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * G1 made flush-aware (replication.md's durability contract with a volatile write cache): a power
 * loss may take the writes whose only copies were un-flushed at the sites losing power, and nothing
 * else.
 *
 * <p>At each power loss, before the page caches go, every value written into an un-flushed block of
 * a site losing power since that block was last durable is <em>excused</em> unless it is saved: a
 * site keeping power (even one whose process is down: its page cache survives) holds it or a newer
 * write in that block, or the losing site's own durable block does. When both sites lose power at
 * once, a copy that only happened to be durable at the other site (its activity log flushed it)
 * saves nothing: the host was promised only what its FLUSH or FUA covered, and no site can tell
 * which of two copies of a block is the newer one. A write that a completed FLUSH or FUA did cover
 * is saved by a durable copy at either site (a flush at a leader serving alone covers only its own
 * disk): it was promised, so the final checks hold the sites to keeping it. An excused write no
 * longer counts for G1 and G2 ({@link Op#discarded}, and reads of its value are dropped). At the
 * end, an excused write that a completed FUA or FLUSH covered is a violation: a FLUSH covers every
 * write acknowledged (at either site) before it was invoked, if it was invoked before that power
 * loss. A block torn while its un-flushed value was excused may read as garbage until an
 * acknowledged write that counts overwrites it; any other torn block is a violation where it shows.
 */
final class PowerLossLedger {
  private record Excused(Op write, long atNanos) {}

  private final Map<Long, Op> writesByValue;
  private final List<Excused> excused = new ArrayList<>();

  /** Excused value -> when its power loss excused it. */
  private final Map<Long, Long> excusedValues = new HashMap<>();

  /**
   * At {@code lostAt}, {@code loser} lost {@code write} from its page cache and {@code keeper}
   * saved it. Should the keeper lose power too before {@code loser} was resynced (it is still stale
   * from that loss), both lost power before they could resynchronize and only a FLUSH or FUA
   * promised anything (see {@link #excuseKeptByLosers}).
   */
  private record KeptByPeer(Op write, SimDisk loser, long lostAt, SimDisk keeper) {}

  private final List<KeptByPeer> keptByPeer = new ArrayList<>();

  /** Each disk's last power loss. */
  private final Map<SimDisk, Long> lastLoss = new HashMap<>();

  /**
   * {@code losing} lose power now: writes one of them kept for a site still stale from the loss
   * that took its own copy are excused unless a FLUSH or FUA covered them (a copy left torn there
   * may then read as garbage).
   */
  private void excuseKeptByLosers(
      List<SimDisk> losing, List<SimDisk> stale, long nowNanos, History history) {
    for (KeptByPeer k : keptByPeer) {
      boolean loserStill =
          (stale.contains(k.loser()) || losing.contains(k.loser()))
              && lastLoss.getOrDefault(k.loser(), Long.MIN_VALUE) == k.lostAt();
      if (losing.contains(k.keeper()) && loserStill && !promised(k.write(), nowNanos, history)) {
        excuse(k.write(), nowNanos);
      }
    }
    keptByPeer.removeIf(k -> losing.contains(k.keeper()));
  }

  /** A power loss tore a block holding {@code value} in the page cache. */
  private record Tear(long value, long atNanos) {}

  /**
   * Block -> the power losses that tore it. A tear is tolerated once its value is excused, at that
   * power loss or a later one (the other site, which held the value, lost it too before it could
   * repair the torn copy).
   */
  private final Map<Long, List<Tear>> tears = new HashMap<>();

  PowerLossLedger(Map<Long, Op> writesByValue) {
    this.writesByValue = writesByValue;
  }

  /**
   * The disks of {@code losing} lose power at {@code nowNanos} (by {@code cut}, which runs their
   * power loss); {@code keeping} are the other sites' disks, except those in {@code stale}: sites
   * that lost power themselves since they were last in sync, whose copies count like those of a
   * site losing power now (both sites lost power before they could resynchronize). Returns how many
   * writes were excused.
   */
  int powerLoss(
      List<SimDisk> losing,
      List<SimDisk> keeping,
      List<SimDisk> stale,
      long nowNanos,
      History history,
      Runnable cut) {
    return powerLoss(losing, keeping, stale, stale, nowNanos, history, cut);
  }

  /**
   * As above; {@code staleLeading} are the stale sites that lead now: what such a site wrote since
   * its own power loss is the copy that wins, so its page cache saves those writes. A stale
   * follower's copy saves nothing: when both sites lost power before they resynchronized, the
   * leader's copy wins (simulation seed 3649202414495922356).
   */
  int powerLoss(
      List<SimDisk> losing,
      List<SimDisk> keeping,
      List<SimDisk> stale,
      List<SimDisk> staleLeading,
      long nowNanos,
      History history,
      Runnable cut) {
    List<SimDisk> durableCopies = new ArrayList<>(losing);
    durableCopies.addAll(stale);
    int before = excused.size();
    excuseKeptByLosers(losing, stale, nowNanos, history);
    List<Map<Long, Long>> cached = new ArrayList<>();
    for (SimDisk d : losing) {
      Map<Long, Long> blocks = new HashMap<>();
      for (Map.Entry<Long, Set<Long>> e : d.volatileValues().entrySet()) {
        long block = e.getKey();
        // Sorted, so the excused list (and the report) does not depend on hash order.
        for (long value : e.getValue().stream().sorted().toList()) {
          Op write = writesByValue.get(value);
          if (value == d.value(block)) {
            blocks.put(block, value); // the cached content a tear mixes with older sectors
          }
          if (value == 0) {
            excuseZeroWrites(block, d, keeping, staleLeading, nowNanos, history);
            continue;
          }
          if (write == null
              || saved(block, write, d, keeping, staleLeading, nowNanos)
              || promised(write, nowNanos, history)
                  && durableCopies.stream().anyMatch(o -> durablyAtLeast(o, block, write))) {
            continue;
          }
          excuse(write, nowNanos);
        }
      }
      cached.add(blocks);
    }
    if (keeping.isEmpty() && durableCopies.size() > 1) {
      excuseUndecided(durableCopies, staleLeading, nowNanos, history);
    }
    cut.run();
    losing.forEach(d -> lastLoss.put(d, nowNanos));
    for (int i = 0; i < losing.size(); i++) {
      for (long block : losing.get(i).lastTorn()) {
        Long value = cached.get(i).get(block);
        if (value != null) {
          tears.computeIfAbsent(block, k -> new ArrayList<>()).add(new Tear(value, nowNanos));
        }
      }
    }
    return excused.size() - before;
  }

  /**
   * No site keeps a current copy: every copy is one whose site lost power since the sites were last
   * in sync, and recovery makes one of them win (a leading one that keeps power: its own). A value
   * durable at some of them but not at all is then lost if another copy wins, which is allowed
   * unless a FLUSH or FUA promised it (the final checks hold the sites to those): a host read of it
   * promised nothing about power loss.
   */
  private void excuseUndecided(
      List<SimDisk> copies, List<SimDisk> staleLeading, long nowNanos, History history) {
    long blocks = copies.getFirst().blockCount();
    for (long block = 0; block < blocks; block++) {
      long first = copies.getFirst().durableValue(block);
      long b = block;
      if (copies.stream().allMatch(d -> d.durableValue(b) == first)) {
        continue;
      }
      for (SimDisk d : copies) {
        if (d.durableValue(block) == 0) {
          if (staleLeading.stream().anyMatch(o -> o.value(b) == 0)) {
            continue; // the leading copy keeps its zeros
          }
          for (Op z : zeroWrites(block, nowNanos, history)) {
            if (!promised(z, nowNanos, history)) {
              excuse(z, nowNanos);
            }
          }
          continue;
        }
        Op write = writesByValue.get(d.durableValue(block));
        // A stale site that leads and keeps power keeps what it holds, or wrote over since: its
        // copy is the one that wins (simulation seeds 1202652299217637081, 7876046146584390753).
        boolean kept =
            write != null
                && staleLeading.stream()
                    .anyMatch(
                        o -> atLeast(o.value(b), write) || o.holdsOrSuperseded(b, write.value));
        if (write != null && !kept && !promised(write, nowNanos, history)) {
          excuse(write, nowNanos);
        }
      }
    }
  }

  /**
   * Zeros in {@code block} of {@code loser}'s page cache go with its power: the UNMAP and WRITE
   * ZEROES there that no FLUSH promised and no site keeping power (or a leading stale one, for a
   * later one) holds as zeros, nor the loser durably, are excused. Zeros do not name their write,
   * so every such operation on the block counts (leniently) as in the page cache.
   */
  private void excuseZeroWrites(
      long block,
      SimDisk loser,
      List<SimDisk> keeping,
      List<SimDisk> staleLeading,
      long nowNanos,
      History history) {
    for (Op z : zeroWrites(block, nowNanos, history)) {
      if (promised(z, nowNanos, history)) {
        continue; // durable once its FLUSH completed: these zeros come from a later one
      }
      // Zeros a site never wrote there are its initial content, not this operation's.
      SimDisk keeper = null;
      for (SimDisk d : keeping) {
        keeper = keeper == null && zeroedThere(d, block) ? d : keeper;
      }
      for (SimDisk d : staleLeading) {
        boolean later = z.invokeNanos > lastLoss.getOrDefault(d, Long.MAX_VALUE);
        keeper = keeper == null && later && zeroedThere(d, block) ? d : keeper;
      }
      if (keeper != null) {
        keptByPeer.add(new KeptByPeer(z, loser, nowNanos, keeper));
      } else {
        excuse(z, nowNanos); // the loser's durable zeros may be its initial content: no saving
      }
    }
  }

  /** Whether {@code d} holds zeros in {@code block} that a zeroing it applied there left. */
  private static boolean zeroedThere(SimDisk d, long block) {
    return d.value(block) == 0 && d.holdsOrSuperseded(block, 0);
  }

  /** The UNMAP and WRITE ZEROES of {@code block} invoked by {@code nowNanos} and still counted. */
  private List<Op> zeroWrites(long block, long nowNanos, History history) {
    List<Op> out = new ArrayList<>();
    for (Op op : history.ops()) {
      if (op.zeroes && op.covers(block) && op.invokeNanos <= nowNanos && !op.discarded) {
        out.add(op);
      }
    }
    return out;
  }

  /**
   * Whether a site keeping power, or {@code losing} durably, holds {@code write} or a newer one.
   */
  private boolean saved(
      long block,
      Op write,
      SimDisk losing,
      List<SimDisk> keeping,
      List<SimDisk> staleLeading,
      long nowNanos) {
    // A stale site keeping power and leading holds in its page cache what it wrote since its own
    // power loss: a write invoked after that loss is as safe there as at any site keeping power (a
    // torn block there stands for nothing newer than that loss).
    for (SimDisk d : staleLeading) {
      if (write.invokeNanos > lastLoss.getOrDefault(d, Long.MAX_VALUE)
          && (atLeast(d.value(block), write) || d.holdsOrSuperseded(block, write.value))) {
        keptByPeer.add(new KeptByPeer(write, losing, nowNanos, d));
        return true;
      }
    }
    for (SimDisk d : keeping) {
      long held = d.value(block);
      // A block torn by an earlier power loss that excused its newer value stands for that value
      // and the older one it was torn with: an acceptable copy of this write, which a later loss
      // of the other site's cached copy does not take away.
      if (atLeast(held, write)
          || d.holdsOrSuperseded(block, write.value)
          || held == BlockData.GARBAGE && tornTolerated(block, write)) {
        keptByPeer.add(new KeptByPeer(write, losing, nowNanos, d));
        return true;
      }
    }
    // The losing site's durable block predates every value still in its page cache (a flush or a
    // FUA there clears them): it saves a write only by holding that very value (a resync that
    // wrote it again), never by holding one invoked later but ordered before it.
    return losing.durableValue(block) == write.value;
  }

  /**
   * Whether {@code d} holds {@code write} or a newer one durably, a tolerated tear counting as the
   * newer, excused value it was torn with.
   */
  private boolean durablyAtLeast(SimDisk d, long block, Op write) {
    long held = d.durableValue(block);
    boolean appliedAndDurable =
        d.holdsOrSuperseded(block, write.value)
            && !d.volatileValues().getOrDefault(block, Set.of()).contains(write.value);
    return atLeast(held, write)
        || appliedAndDurable // durable, or overwritten by what this site ordered after it
        || held == BlockData.GARBAGE && tornTolerated(block, write);
  }

  /** Whether a FUA or a FLUSH completed by {@code nowNanos} covers {@code write}. */
  private static boolean promised(Op write, long nowNanos, History history) {
    if (!write.ok() || write.completeNanos > nowNanos) {
      return false;
    }
    if (write.fua) {
      return true;
    }
    for (Op f : history.ops()) {
      if (f.kind == Op.Kind.FLUSH
          && f.volume == write.volume
          && f.ok()
          && f.completeNanos <= nowNanos
          && f.invokeNanos >= write.completeNanos) {
        return true;
      }
    }
    return false;
  }

  /**
   * {@code held} is {@code write}'s value or a newer write's (invoked after it: a concurrent one
   * counts as newer only if the sites ordered it so, which the final checks then hold it to).
   */
  private boolean atLeast(long held, Op write) {
    if (held == write.value) {
      return true;
    }
    Op holder = writesByValue.get(held);
    return holder != null && holder.invokeNanos > write.invokeNanos;
  }

  /**
   * Excuses {@code write} as lost in a power loss at {@code atNanos}, unless it no longer counts
   * already. One excused while in flight and acknowledged since counts again (see {@link
   * #onCompleted}), so a later power loss can excuse it again (simulation seed
   * 3934420732032130405); reads of its value stay dropped from the first time on.
   */
  void excuse(Op write, long atNanos) {
    excusedValues.putIfAbsent(write.value, atNanos);
    if (!write.discarded) {
      write.discarded = true;
      excused.add(new Excused(write, atNanos));
    }
  }

  /**
   * {@code op} completed. A write excused while it was still in flight (a power loss took the
   * follower's copy before its leader wrote its own) and acknowledged since counts again for G1:
   * its leader promised it after the loss. Reads of its value stay dropped from G2 (one before the
   * loss may have come from the copy that went).
   */
  void onCompleted(Op op) {
    Long at = excusedValues.get(op.value);
    if (op.kind == Op.Kind.WRITE && op.ok() && at != null && at < op.completeNanos) {
      op.discarded = false;
    }
  }

  /** A read of {@code value} is dropped from G2: its write was excused. */
  boolean excused(long value) {
    return excusedValues.containsKey(value);
  }

  int excusedCount() {
    return excused.size();
  }

  /**
   * Whether {@code block} may read as garbage at {@code atNanos}: a power loss before then tore a
   * value there that was excused by then, and no acknowledged write that counts completed there
   * since that tear. Tears are not told apart by site: a torn copy travels with a resync.
   */
  boolean tornTolerated(long block, long atNanos, History history) {
    for (Tear t : tears.getOrDefault(block, List.of())) {
      if (tolerated(t, block, atNanos) && !overwrittenSince(block, t.atNanos(), atNanos, history)) {
        return true;
      }
    }
    return false;
  }

  /**
   * As above, at a power loss: whether some tear of {@code block} tolerated by now can stand for
   * {@code write}, which must then be older than the tear (simulation seed 3743934884227454558: a
   * copy torn long before stood for a write made since).
   */
  private boolean tornTolerated(long block, Op write) {
    return tears.getOrDefault(block, List.of()).stream()
        .anyMatch(t -> write.invokeNanos < t.atNanos() && tolerated(t, block, Long.MAX_VALUE));
  }

  private boolean tolerated(Tear t, long block, long atNanos) {
    if (t.atNanos() > atNanos) {
      return false;
    }
    if (t.value() == 0) {
      // Torn zeros stand for an UNMAP or WRITE ZEROES of the block excused by then.
      for (Excused e : excused) {
        if (e.write().zeroes && e.write().covers(block) && e.atNanos() <= atNanos) {
          return true;
        }
      }
      return false;
    }
    Long excusedAt = excusedValues.get(t.value());
    return excusedAt != null && excusedAt <= atNanos;
  }

  /** Whether an UNMAP or WRITE ZEROES of {@code block} invoked before {@code beforeNanos} went. */
  boolean zeroWriteExcused(long block, long beforeNanos) {
    for (Excused e : excused) {
      Op z = e.write();
      if (z.zeroes && z.covers(block) && z.invokeNanos < beforeNanos) {
        return true;
      }
    }
    return false;
  }

  private static boolean overwrittenSince(long block, long from, long to, History history) {
    for (Op op : history.ops()) {
      if (op.kind == Op.Kind.WRITE
          && op.ok()
          && !op.discarded
          && op.covers(block)
          && op.completeNanos > from
          && op.completeNanos <= to) {
        return true;
      }
    }
    return false;
  }

  /** G1's durability half: no excused write was covered by a completed FUA or FLUSH. */
  List<String> check(History history) {
    List<String> violations = new ArrayList<>();
    List<Op> flushes =
        history.ops().stream().filter(o -> o.kind == Op.Kind.FLUSH && o.ok()).toList();
    for (Excused e : excused) {
      Op w = e.write();
      if (!w.ok() || w.completeNanos > e.atNanos()) {
        continue; // not acknowledged when it was excused: see onCompleted
      }
      if (w.fua) {
        violations.add("G1: FUA write " + w + " lost in the power loss at " + Op.ms(e.atNanos()));
        continue;
      }
      for (Op f : flushes) {
        // Zeros name no write, so a zeroing is excused whenever zeros may have gone: only a FLUSH
        // completed before that loss holds it to survive (and such a one is never excused).
        boolean covers = w.zeroes ? f.completeNanos <= e.atNanos() : f.invokeNanos < e.atNanos();
        if (f.volume == w.volume && f.invokeNanos >= w.completeNanos && covers) {
          violations.add(
              "G1: write "
                  + w
                  + " lost in the power loss at "
                  + Op.ms(e.atNanos())
                  + " although flush "
                  + f
                  + " covered it");
          break;
        }
      }
    }
    return violations;
  }
}
