package io.duet.testkit.sim;

import io.duet.sync.ReplicatedVolume;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;

/**
 * A host at one site issuing one operation at a time (writes of unique values, reads, flushes) on a
 * few hot blocks, so operations from both sites overlap. Each operation runs on a host thread of
 * the site through {@link ReplicatedVolume}, exactly as a front end calls it, and is recorded in
 * the {@link History}. A write that fails or dies with its site stays indeterminate.
 *
 * <p>In runs that enable them, some writes go as WRITE ATOMIC, as COMPARE AND WRITE of one block
 * (expecting what this host last saw there), as writes across a replication chunk boundary (split
 * into chunks, atomic per block only), or as UNMAP or WRITE ZEROES. Those choices come from a
 * stream of their own, so runs that do not enable them replay exactly as before they existed.
 */
final class HostClient {
  private final SimWorld world;
  private final SimSite site;
  private final SimSite peer;
  private final int id;
  private final SplittableRandom rnd;
  private final int hotBlocks;

  /** Draws the kind of each write in runs with the extended operations, else null. */
  private final SplittableRandom extra;

  /** Blocks per replication chunk (a write crossing a multiple of it is split). */
  private final int chunkBlocks;

  /** The group's volumes, side by side on the site's disk, {@code volumeBlocks} each. */
  private final int volumes;

  private final long volumeBlocks;

  /** Whether some plain writes go as UNMAP or WRITE ZEROES (level 5 of the simulator on). */
  private final boolean zeroOps;

  /** Block -> the value this host last read or wrote there (what a compare-and-write expects). */
  private final java.util.Map<Long, Long> lastSeen = new java.util.HashMap<>();

  private long counter;
  private Op running;
  private boolean stopped;
  private boolean waiting;
  long completed;

  HostClient(
      SimWorld world,
      SimSite site,
      SimSite peer,
      int id,
      SplittableRandom rnd,
      int hotBlocks,
      SplittableRandom extra,
      int chunkBlocks,
      int volumes,
      long volumeBlocks,
      boolean zeroOps) {
    this.world = world;
    this.site = site;
    this.peer = peer;
    this.id = id;
    this.rnd = rnd;
    this.hotBlocks = hotBlocks;
    this.extra = extra;
    this.chunkBlocks = chunkBlocks;
    this.volumes = volumes;
    this.volumeBlocks = volumeBlocks;
    this.zeroOps = zeroOps;
  }

  SimSite site() {
    return site;
  }

  void start() {
    schedule(rnd.nextLong(5_000_000));
  }

  void stop() {
    stopped = true;
  }

  /** No operation in flight (it completed, or died with its site). */
  boolean idle() {
    return running == null;
  }

  /** The site crashed: its operation in flight is abandoned (indeterminate). */
  void siteCrashed() {
    if (running != null) {
      world.trace.log(site.name, "c" + id + " abandons " + running);
      running = null;
      schedule(50_000_000);
    }
  }

  private void schedule(long delayNanos) {
    if (stopped || waiting) {
      return;
    }
    waiting = true;
    world.sched.after(
        delayNanos,
        null,
        () -> {
          waiting = false;
          issue();
        });
  }

  private void issue() {
    if (stopped || running != null) {
      return;
    }
    if (!site.alive()) {
      schedule(50_000_000);
      return;
    }
    int p = rnd.nextInt(100);
    Op.Kind kind = p < 55 ? Op.Kind.WRITE : p < 95 ? Op.Kind.READ : Op.Kind.FLUSH;
    int blocks = kind == Op.Kind.FLUSH ? 0 : 1 + rnd.nextInt(kind == Op.Kind.WRITE ? 3 : 4);
    long first = kind == Op.Kind.FLUSH ? 0 : rnd.nextLong(hotBlocks - blocks + 1);
    long value = kind == Op.Kind.WRITE ? ((long) id << 32) | ++counter : 0;
    boolean fua = rnd.nextInt(10) == 0;
    int variant = kind == Op.Kind.WRITE && extra != null ? extra.nextInt(20) : -1;
    if (variant >= 0 && variant < 2) {
      // Across a chunk boundary: the replicator splits it (and each chunk takes its own extents).
      long boundary = (long) chunkBlocks * (1 + extra.nextInt(2));
      first = boundary - 1 - extra.nextInt(Math.min(8, chunkBlocks));
      blocks = 2 + extra.nextInt(Math.min(20, chunkBlocks));
    } else if (variant >= 5 && variant < 10) {
      blocks = 1; // compare-and-write of one block: G2 checks each block as a register
    }
    // Several volumes only in runs with the extended operations: only those draw a volume here.
    int vol = volumes > 1 ? extra.nextInt(volumes) : 0;
    first += vol * volumeBlocks;
    Op op = world.history.invoke(site.name, id, kind, first, blocks, value, world.sched.now());
    op.volume = vol;
    op.fua = fua && kind == Op.Kind.WRITE;
    if (variant >= 0 && variant < 2) {
      op.acrossChunks = true;
    } else if (variant >= 2 && variant < 5) {
      op.atomic = true;
    } else if (variant >= 5 && variant < 10) {
      op.compare = true;
      op.expected = lastSeen.getOrDefault(first, 0L);
    } else if (variant >= 10 && zeroOps && extra.nextInt(4) == 0) {
      op.zeroes = true;
      op.unmap = extra.nextBoolean();
      op.fua = false; // neither UNMAP nor WRITE ZEROES carries FUA
    }
    if (kind == Op.Kind.WRITE) {
      world.invariants.onWriteInvoked(op);
    }
    if (op.zeroes) {
      world.invariants.onZeroWriteInvoked(op);
    }
    running = op;
    ReplicatedVolume volume = site.volume(vol);
    site.spawnHost("host-" + site.name + "-c" + id, () -> run(volume, op, fua));
  }

  /** Runs on the site's host thread: blocks in the replicator, then reports. */
  private void run(ReplicatedVolume volume, Op op, boolean fua) {
    long[] values = null;
    String error = null;
    boolean miscompare = false;
    try {
      switch (op.kind) {
        case WRITE -> {
          long offset = (op.firstBlock - op.volume * volumeBlocks) * SimDisk.BLOCK;
          ByteBuffer data = ByteBuffer.wrap(BlockData.encode(op.value, op.firstBlock, op.blocks));
          if (op.zeroes && op.unmap) {
            volume.unmap(offset, (long) op.blocks * SimDisk.BLOCK);
          } else if (op.zeroes) {
            volume.writeZeroes(offset, (long) op.blocks * SimDisk.BLOCK, (op.value & 1) == 0);
          } else if (op.compare) {
            byte[] expected =
                op.expected == 0
                    ? new byte[SimDisk.BLOCK]
                    : BlockData.encode(op.expected, op.firstBlock, 1);
            miscompare = volume.compareAndWrite(offset, ByteBuffer.wrap(expected), data, fua) >= 0;
          } else if (op.atomic) {
            volume.writeAtomic(offset, data, fua);
          } else {
            volume.write(offset, data, fua);
          }
        }
        case READ ->
            values =
                read(volume, op.firstBlock - op.volume * volumeBlocks, op.blocks, op.firstBlock);
        case FLUSH -> volume.flush();
      }
    } catch (IOException e) {
      error = e.getClass().getSimpleName() + ": " + e.getMessage();
    } catch (RuntimeException e) {
      error = "BUG " + e;
      world.invariants.violation("host operation threw " + e + ": " + op);
    }
    finish(op, values, error, miscompare);
  }

  /**
   * Reads {@code blocks} blocks at block {@code first} of {@code volume}, which are the site disk's
   * blocks from {@code diskFirst} on (what their content names).
   */
  static long[] read(ReplicatedVolume volume, long first, int blocks, long diskFirst)
      throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(blocks * SimDisk.BLOCK);
    volume.read(first * SimDisk.BLOCK, buf);
    long[] values = new long[blocks];
    for (int i = 0; i < blocks; i++) {
      values[i] = BlockData.decode(buf.array(), i * SimDisk.BLOCK, diskFirst + i);
    }
    return values;
  }

  private void finish(Op op, long[] values, String error, boolean miscompare) {
    if (running != op) {
      return; // abandoned meanwhile (cannot happen: a dead site's threads never resume)
    }
    running = null;
    long now = world.sched.now();
    if (error == null && miscompare) {
      world.history.miscompared(op, now);
      world.invariants.onCompleted(op);
      lastSeen.remove(op.firstBlock); // it holds something else: expect a fresh read's value
      schedule(rnd.nextLong(4_000_000));
    } else if (error == null) {
      for (int i = 0; i < op.blocks; i++) {
        long seen = op.kind == Op.Kind.WRITE ? op.registerValue() : values == null ? 0 : values[i];
        if (op.kind != Op.Kind.FLUSH && seen != BlockData.GARBAGE) {
          lastSeen.put(op.firstBlock + i, seen);
        }
      }
      world.history.ok(op, now, values);
      world.invariants.onCompleted(op);
      completed++;
      if (op.kind == Op.Kind.WRITE) {
        world.invariants.onWriteAcked(site, peer, op, world.mediator);
      }
      schedule(rnd.nextLong(4_000_000));
    } else {
      world.history.failed(op, now, error);
      world.invariants.onCompleted(op);
      schedule(10_000_000 + rnd.nextLong(40_000_000));
    }
    if (world.trace.verbose()) {
      world.trace.log(site.name, op.toString());
    }
  }
}
