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
 */
final class HostClient {
  private final SimWorld world;
  private final SimSite site;
  private final SimSite peer;
  private final int id;
  private final SplittableRandom rnd;
  private final int hotBlocks;
  private long counter;
  private Op running;
  private boolean stopped;
  private boolean waiting;
  long completed;

  HostClient(
      SimWorld world, SimSite site, SimSite peer, int id, SplittableRandom rnd, int hotBlocks) {
    this.world = world;
    this.site = site;
    this.peer = peer;
    this.id = id;
    this.rnd = rnd;
    this.hotBlocks = hotBlocks;
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
    Op op = world.history.invoke(site.name, id, kind, first, blocks, value, world.sched.now());
    op.fua = fua && kind == Op.Kind.WRITE;
    if (kind == Op.Kind.WRITE) {
      world.invariants.onWriteInvoked(op);
    }
    running = op;
    ReplicatedVolume volume = site.volume();
    site.spawnHost("host-" + site.name + "-c" + id, () -> run(volume, op, fua));
  }

  /** Runs on the site's host thread: blocks in the replicator, then reports. */
  private void run(ReplicatedVolume volume, Op op, boolean fua) {
    long[] values = null;
    String error = null;
    try {
      switch (op.kind) {
        case WRITE ->
            volume.write(
                op.firstBlock * SimDisk.BLOCK,
                ByteBuffer.wrap(BlockData.encode(op.value, op.firstBlock, op.blocks)),
                fua);
        case READ -> values = read(volume, op.firstBlock, op.blocks);
        case FLUSH -> volume.flush();
      }
    } catch (IOException e) {
      error = e.getClass().getSimpleName() + ": " + e.getMessage();
    } catch (RuntimeException e) {
      error = "BUG " + e;
      world.invariants.violation("host operation threw " + e + ": " + op);
    }
    finish(op, values, error);
  }

  static long[] read(ReplicatedVolume volume, long first, int blocks) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(blocks * SimDisk.BLOCK);
    volume.read(first * SimDisk.BLOCK, buf);
    long[] values = new long[blocks];
    for (int i = 0; i < blocks; i++) {
      values[i] = BlockData.decode(buf.array(), i * SimDisk.BLOCK, first + i);
    }
    return values;
  }

  private void finish(Op op, long[] values, String error) {
    if (running != op) {
      return; // abandoned meanwhile (cannot happen: a dead site's threads never resume)
    }
    running = null;
    long now = world.sched.now();
    if (error == null) {
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
