package io.duet.sync;

import static org.assertj.core.api.Assertions.assertThat;

import io.duet.sync.ReplicationStatus.Availability;
import io.duet.sync.ReplicationStatus.SyncState;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/** Two sites on a memory link, and writers that record what was acknowledged. */
class ReplicationHarness implements AutoCloseable {
  final MemoryLink link = new MemoryLink();
  final TestSite a;
  final TestSite b;

  ReplicationHarness(Path dir, int volumes, SyncSettings settings) throws Exception {
    this(dir, volumes, settings, s -> {});
  }

  /** Two sites, each configured by {@code setUp} (wrappers, say) before it opens. */
  ReplicationHarness(
      Path dir, int volumes, SyncSettings settings, java.util.function.Consumer<TestSite> setUp)
      throws Exception {
    a =
        new TestSite(
            "a", TestSite.SITE_A, TestSite.SITE_B, dir.resolve("a"), link.a, volumes, settings);
    b =
        new TestSite(
            "b", TestSite.SITE_B, TestSite.SITE_A, dir.resolve("b"), link.b, volumes, settings);
    setUp.accept(a);
    setUp.accept(b);
    a.open();
    b.open();
    link.heal();
  }

  /** A set-up step for site B only (the follower at start). */
  static java.util.function.Consumer<TestSite> atSiteB(
      java.util.function.Consumer<TestSite> setUp) {
    return s -> {
      if (s.siteId.equals(TestSite.SITE_B)) {
        setUp.accept(s);
      }
    };
  }

  static void await(String what, BooleanSupplier condition) {
    await(() -> what, condition);
  }

  static void await(java.util.function.Supplier<String> what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("timed out waiting for: " + what.get());
      }
      LockSupport.parkNanos(1_000_000);
    }
  }

  static boolean serving(TestSite s) {
    return s.status().availability() == Availability.SERVING;
  }

  String dump() {
    return a.status()
        + " / "
        + b.status()
        + "\nwarnings "
        + a.warnings
        + " / "
        + b.warnings
        + "\nA: "
        + a.replicator.describe().join()
        + "\nB: "
        + b.replicator.describe().join();
  }

  void awaitInSync() {
    await(
        () ->
            "both sites in sync and serving: "
                + a.status()
                + " / "
                + b.status()
                + " warnings "
                + a.warnings
                + " / "
                + b.warnings
                + "\nA: "
                + a.replicator.describe().join()
                + "\nB: "
                + b.replicator.describe().join(),
        () ->
            serving(a)
                && serving(b)
                && a.status().syncState() == SyncState.IN_SYNC
                && b.status().syncState() == SyncState.IN_SYNC);
  }

  /** Cuts the link and waits until both sites have seen it: B stops serving, A is alone. */
  void cutAndAwaitAlone() {
    link.cut();
    await(
        () -> "both sites see the cut: " + dump(),
        () -> !serving(b) && a.status().link() == ReplicationStatus.LinkState.DOWN);
  }

  /** The two sites' volumes hold the same bytes. */
  void assertIdentical() throws Exception {
    for (int v = 0; v < a.volumeCount; v++) {
      int step = (int) Math.min(a.volumeBytes, 8L << 20);
      ByteBuffer x = ByteBuffer.allocate(step);
      ByteBuffer y = ByteBuffer.allocate(step);
      for (long at = 0; at < a.volumeBytes; at += step) {
        int n = (int) Math.min(step, a.volumeBytes - at);
        a.locals.get(v).read(at, x.clear().limit(n));
        b.locals.get(v).read(at, y.clear().limit(n));
        assertThat(x.flip().mismatch(y.flip()))
            .as("first differing byte of volume %d after %d", v, at)
            .isEqualTo(-1);
      }
    }
  }

  @Override
  public void close() throws IOException {
    try {
      a.close();
    } finally {
      try {
        b.close();
      } finally {
        link.close();
      }
    }
  }

  /** A block's content: its writer and a counter, repeated (so torn blocks are detected). */
  static ByteBuffer block(long writer, long counter) {
    ByteBuffer buf = ByteBuffer.allocate(TestSite.BLOCK);
    while (buf.hasRemaining()) {
      buf.putLong(writer).putLong(counter);
    }
    return buf.flip();
  }

  /** Decodes a block as {writer, counter}; fails on a torn block. */
  static long[] decode(ByteBuffer block) {
    long w = block.getLong(0);
    long c = block.getLong(8);
    for (int i = 0; i < TestSite.BLOCK; i += 16) {
      assertThat(block.getLong(i)).as("torn block").isEqualTo(w);
      assertThat(block.getLong(i + 8)).as("torn block").isEqualTo(c);
    }
    return new long[] {w, c};
  }

  /**
   * A writer owning some blocks of volume 0 at one site: it writes increasing counters and
   * remembers, per block, the last acknowledged counter and whether a later write failed (then
   * either value may be on disk).
   */
  static final class Writer implements Runnable {
    final TestSite site;
    final long id;
    final long[] blocks;
    final ConcurrentHashMap<Long, Long> acked = new ConcurrentHashMap<>();
    final ConcurrentHashMap<Long, List<Long>> uncertain = new ConcurrentHashMap<>();
    final AtomicBoolean stop;
    volatile long ackedCount;
    volatile long failures;
    private Thread thread;

    Writer(TestSite site, long id, long[] blocks, AtomicBoolean stop) {
      this.site = site;
      this.id = id;
      this.blocks = blocks;
      this.stop = stop;
    }

    Writer start() {
      thread = Thread.ofVirtual().name("writer-" + id).start(this);
      return this;
    }

    void join() throws InterruptedException {
      thread.join();
    }

    /** For a writer on a crashed site: its last write never returns (the "process" is gone). */
    void abandon() throws InterruptedException {
      thread.join(java.time.Duration.ofMillis(200));
    }

    @Override
    public void run() {
      long counter = 0;
      while (!stop.get()) {
        long blockNo = blocks[(int) (counter % blocks.length)];
        counter++;
        // Uncertain until acknowledged: a write cut off by a crash may or may not have happened.
        uncertain.computeIfAbsent(blockNo, k -> new CopyOnWriteArrayList<>()).add(counter);
        try {
          site.volume(0).write(blockNo * TestSite.BLOCK, block(id, counter), false);
          acked.put(blockNo, counter);
          uncertain.remove(blockNo);
          ackedCount++;
        } catch (Exception e) {
          failures++;
          LockSupport.parkNanos(2_000_000); // unavailable: back off like a host would
        }
      }
    }

    /** Every acknowledged write (or a later, unacknowledged one) is what {@code site} reads. */
    void checkReadable(TestSite reader) throws Exception {
      for (long blockNo : blocks) {
        Long last = acked.get(blockNo);
        List<Long> maybe = uncertain.get(blockNo);
        ByteBuffer buf = ByteBuffer.allocate(TestSite.BLOCK);
        reader.volume(0).read(blockNo * TestSite.BLOCK, buf);
        long[] got = decode(buf.flip());
        List<Long> allowed = new ArrayList<>();
        if (last != null) {
          allowed.add(last);
        }
        if (maybe != null) {
          allowed.addAll(maybe);
        }
        if (allowed.isEmpty() || (last == null && got[0] == 0 && got[1] == 0)) {
          continue; // never written, or only by writes that failed and may not have happened
        }
        assertThat(got[0]).as("writer of block %d", blockNo).isEqualTo(id);
        assertThat(allowed).as("block %d read at %s", blockNo, reader.name).contains(got[1]);
      }
    }
  }
}
