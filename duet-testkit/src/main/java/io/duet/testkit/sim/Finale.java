package io.duet.testkit.sim;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * The end of a run, after healing: G5 (a write succeeds at each site within a bounded time), a read
 * of the whole volume at each site (recorded in the history, so G2 covers the final state), then
 * G4, G1 and G2.
 */
final class Finale {
  private static final long BOUND_NANOS = 3_000 * SimWorld.MS;
  private static final int PROBE_CLIENT = 0xFFFF;

  private final SimWorld w;
  private long probes;

  Finale(SimWorld w) {
    this.w = w;
  }

  void run() {
    long blocks = w.a.disk.blockCount();
    for (SimSite s : List.of(w.a, w.b)) {
      Op op = oneShot(s, Op.Kind.WRITE, probes % (blocks / w.a.volumeCount()), 1, 0);
      if (!op.ok()) {
        w.invariants.violation(
            "G5: a write at healed site "
                + s.name
                + " did not succeed within "
                + BOUND_NANOS / SimWorld.MS
                + " ms: "
                + op);
      }
    }
    int volumes = w.a.volumeCount();
    long perVolume = blocks / volumes;
    for (SimSite s : List.of(w.a, w.b)) {
      for (int v = 0; v < volumes; v++) {
        Op op = oneShot(s, Op.Kind.READ, v * perVolume, (int) perVolume, v);
        if (!op.ok()) {
          w.invariants.violation("G5: the final read at site " + s.name + " failed: " + op);
        }
      }
    }
    w.invariants.checkConverged(w.a, w.b);
    w.invariants.checkForcedFailover();
    w.invariants.checkNothingLost(w.history, w.a.disk, "A");
    w.invariants.checkNothingLost(w.history, w.b.disk, "B");
    w.invariants.checkFlushesKept(w.history);
    for (String v : LinearizabilityChecker.check(w.history, blocks, w.invariants.powerLoss)) {
      w.invariants.violation("G2: " + v);
    }
  }

  /** One operation at {@code site}, waited for up to the bound; returns it as recorded. */
  private Op oneShot(SimSite site, Op.Kind kind, long first, int blocks, int volumeIndex) {
    long value = kind == Op.Kind.WRITE ? ((long) PROBE_CLIENT << 32) | ++probes : 0;
    long local = first - volumeIndex * (w.a.disk.blockCount() / w.a.volumeCount());
    Op op = w.history.invoke(site.name, PROBE_CLIENT, kind, first, blocks, value, w.sched.now());
    op.volume = volumeIndex;
    if (kind == Op.Kind.WRITE) {
      w.invariants.onWriteInvoked(op);
    }
    if (!site.alive()) {
      w.history.failed(op, w.sched.now(), "site down");
      return op;
    }
    var volume = site.volume(volumeIndex);
    site.spawnHost(
        "probe-" + site.name,
        () -> {
          try {
            long[] values = null;
            if (kind == Op.Kind.WRITE) {
              volume.write(
                  local * SimDisk.BLOCK,
                  ByteBuffer.wrap(BlockData.encode(value, first, blocks)),
                  false);
            } else {
              values = HostClient.read(volume, local, blocks, first);
            }
            w.history.ok(op, w.sched.now(), values);
          } catch (IOException | RuntimeException e) {
            w.history.failed(op, w.sched.now(), e.toString());
          }
        });
    w.runUntil(() -> op.outcome != Op.Outcome.PENDING, BOUND_NANOS);
    return op;
  }
}
