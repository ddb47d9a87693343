package io.duet.testkit.sim;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
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
 * which of two copies of a block is the newer one. An excused write no longer counts for G1 and G2
 * ({@link Op#discarded}, and reads of its value are dropped). At the end, an excused write that a
 * completed FUA or FLUSH covered is a violation: a FLUSH covers every write acknowledged (at either
 * site) before it was invoked, if it was invoked before that power loss. A block torn while its
 * un-flushed value was excused may read as garbage until an acknowledged write that counts
 * overwrites it; any other torn block is a violation where it shows.
 */
final class PowerLossLedger {
  private record Excused(Op write, long atNanos) {}

  private final Map<Long, Op> writesByValue;
  private final List<Excused> excused = new ArrayList<>();
  private final Set<Long> excusedValues = new HashSet<>();

  /** Block -> the times of the power losses that tore it while its value was excused. */
  private final Map<Long, List<Long>> tears = new HashMap<>();

  PowerLossLedger(Map<Long, Op> writesByValue) {
    this.writesByValue = writesByValue;
  }

  /**
   * The disks of {@code losing} lose power at {@code nowNanos} (by {@code cut}, which runs their
   * power loss); {@code keeping} are the other sites' disks. Returns how many writes were excused.
   */
  int powerLoss(List<SimDisk> losing, List<SimDisk> keeping, long nowNanos, Runnable cut) {
    int before = excused.size();
    List<Set<Long>> tearable = new ArrayList<>();
    for (SimDisk d : losing) {
      Set<Long> blocks = new HashSet<>();
      for (Map.Entry<Long, Set<Long>> e : d.volatileValues().entrySet()) {
        long block = e.getKey();
        // Sorted, so the excused list (and the report) does not depend on hash order.
        for (long value : e.getValue().stream().sorted().toList()) {
          Op write = writesByValue.get(value);
          if (write == null || saved(block, write, d, keeping)) {
            continue;
          }
          if (value == d.value(block)) {
            blocks.add(block); // the cached content a tear mixes with older sectors
          }
          if (excusedValues.add(value)) {
            write.discarded = true;
            excused.add(new Excused(write, nowNanos));
          }
        }
      }
      tearable.add(blocks);
    }
    cut.run();
    for (int i = 0; i < losing.size(); i++) {
      for (long block : losing.get(i).lastTorn()) {
        if (tearable.get(i).contains(block)) {
          tears.computeIfAbsent(block, k -> new ArrayList<>()).add(nowNanos);
        }
      }
    }
    return excused.size() - before;
  }

  /**
   * Whether a site keeping power, or {@code losing} durably, holds {@code write} or a newer one.
   */
  private boolean saved(long block, Op write, SimDisk losing, List<SimDisk> keeping) {
    for (SimDisk d : keeping) {
      long held = d.value(block);
      // A block torn by an earlier power loss that excused its newer value stands for that value
      // and the older one it was torn with: an acceptable copy of this write, which a later loss
      // of the other site's cached copy does not take away.
      if (atLeast(held, write)
          || d.holdsOrSuperseded(block, write.value)
          || held == BlockData.GARBAGE && tears.containsKey(block)) {
        return true;
      }
    }
    return atLeast(losing.durableValue(block), write);
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

  /** Excuses {@code write} as lost in a power loss at {@code atNanos} (for the checker's tests). */
  void excuse(Op write, long atNanos) {
    if (excusedValues.add(write.value)) {
      write.discarded = true;
      excused.add(new Excused(write, atNanos));
    }
  }

  /** A read of {@code value} is dropped from G2: its write was excused. */
  boolean excused(long value) {
    return excusedValues.contains(value);
  }

  int excusedCount() {
    return excused.size();
  }

  /**
   * Whether {@code block} may read as garbage at {@code atNanos}: a power loss tore it while its
   * value was excused and no acknowledged write that counts completed there since.
   */
  boolean tornTolerated(long block, long atNanos, History history) {
    long tornAt = Long.MIN_VALUE;
    for (long t : tears.getOrDefault(block, List.of())) {
      if (t <= atNanos) {
        tornAt = Math.max(tornAt, t);
      }
    }
    if (tornAt == Long.MIN_VALUE) {
      return false;
    }
    for (Op op : history.ops()) {
      if (op.kind == Op.Kind.WRITE
          && op.ok()
          && !op.discarded
          && op.covers(block)
          && op.completeNanos > tornAt
          && op.completeNanos <= atNanos) {
        return false;
      }
    }
    return true;
  }

  /** G1's durability half: no excused write was covered by a completed FUA or FLUSH. */
  List<String> check(History history) {
    List<String> violations = new ArrayList<>();
    List<Op> flushes =
        history.ops().stream().filter(o -> o.kind == Op.Kind.FLUSH && o.ok()).toList();
    for (Excused e : excused) {
      Op w = e.write();
      if (!w.ok()) {
        continue; // never acknowledged: nothing was promised
      }
      if (w.fua) {
        violations.add("G1: FUA write " + w + " lost in the power loss at " + Op.ms(e.atNanos()));
        continue;
      }
      for (Op f : flushes) {
        if (f.invokeNanos >= w.completeNanos && f.invokeNanos < e.atNanos()) {
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
