package io.duet.sync;

import static org.assertj.core.api.Assertions.assertThat;

import io.duet.store.Volume;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Times 4 KiB random writes over a 1 GiB volume, unreplicated and replicated (two sites on a
 * memory link, real local volumes, dirty maps and activity logs with the node's geometry), at
 * queue depth 1 and 32, at the leader and at the follower. A measuring tool, not a regression
 * test: it runs only with {@code -Dduet.perf=true} and prints its numbers.
 */
@EnabledIfSystemProperty(named = "duet.perf", matches = "true")
class WritePerfHarness {
  private static final long VOLUME = 1L << 30;
  private static final int IO = 4096;
  private static final long SECONDS = Long.getLong("duet.perf.seconds", 4);

  @TempDir Path dir;

  @Test
  void randomWrites() throws Exception {
    try (ReplicationHarness h =
        new ReplicationHarness(dir, 1, TestSite.FAST, WritePerfHarness::nodeGeometry)) {
      h.awaitInSync();
      Volume local = h.a.locals.get(0);
      report("local  ", local);
      report("leader ", h.a.volume(0));
      report("follower", h.b.volume(0));
      report("local  ", local);
      report("leader ", h.a.volume(0));
    }
  }

  private static void nodeGeometry(TestSite s) {
    s.volumeBytes = VOLUME;
    s.extentBytes = Long.getLong("duet.perf.extent", 4L << 20);
    s.maxExtents = Integer.getInteger(
        "duet.perf.extents", io.duet.sync.dirty.ActivityLogFile.MAX_ACTIVE_EXTENTS_DEFAULT);
  }

  private static void report(String what, Volume v) throws Exception {
    long[] qd1 = latencies(v, SECONDS * 1_000_000_000L / 2, 1);
    long iops = iops(v, 32, SECONDS * 1_000_000_000L);
    System.out.printf(
        "%s QD1 p50 %6.1f us p99 %7.1f us (%d writes)   QD32 %7d IOPS%n",
        what, qd1[qd1.length / 2] / 1e3, qd1[qd1.length * 99 / 100] / 1e3, qd1.length, iops);
  }

  private static long[] latencies(Volume v, long nanos, long seed) throws Exception {
    SplittableRandom random = new SplittableRandom(seed);
    ByteBuffer buf = ByteBuffer.allocate(IO);
    long[] out = new long[1 << 20];
    int n = 0;
    long end = System.nanoTime() + nanos;
    while (System.nanoTime() < end && n < out.length) {
      long at = random.nextLong(VOLUME / IO) * IO;
      long t0 = System.nanoTime();
      v.write(at, buf.clear(), false);
      out[n++] = System.nanoTime() - t0;
    }
    long[] r = Arrays.copyOf(out, n);
    Arrays.sort(r);
    assertThat(r).isNotEmpty();
    return r;
  }

  private static long iops(Volume v, int depth, long nanos) throws Exception {
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong done = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    Thread[] threads = new Thread[depth];
    for (int i = 0; i < depth; i++) {
      SplittableRandom random = new SplittableRandom(100 + i);
      threads[i] =
          Thread.ofVirtual()
              .start(
                  () -> {
                    ByteBuffer buf = ByteBuffer.allocate(IO);
                    while (!stop.get()) {
                      long at = random.nextLong(VOLUME / IO) * IO;
                      try {
                        v.write(at, buf.clear(), false);
                        done.incrementAndGet();
                      } catch (Exception e) {
                        failed.incrementAndGet();
                      }
                    }
                  });
    }
    long t0 = System.nanoTime();
    long deadline = t0 + nanos;
    while (System.nanoTime() < deadline) {
      Thread.sleep(50); // a measuring window, not a wait for a condition
    }
    stop.set(true);
    long n = done.get();
    long elapsed = System.nanoTime() - t0;
    for (Thread t : threads) {
      t.join();
    }
    assertThat(failed.get()).isZero();
    return n * 1_000_000_000L / elapsed;
  }
}
