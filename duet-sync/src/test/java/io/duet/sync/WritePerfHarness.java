package io.duet.sync;

import static org.assertj.core.api.Assertions.assertThat;

import io.duet.store.Volume;
import io.duet.sync.link.TlsPair;
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
 * Times 4 KiB random writes over a 1 GiB volume, unreplicated and replicated (two sites on a memory
 * link, real local volumes, dirty maps and activity logs with the node's geometry), at queue depth
 * 1 and 32, at the leader and at the follower. A measuring tool, not a regression test: it runs
 * only with {@code -Dduet.perf=true} and prints its numbers.
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

  @Test
  @SuppressWarnings("try") // the link closes inside its try, before the sites (see below)
  void randomWritesOverTls() throws Exception {
    try (TlsPair tls = TlsPair.open(dir.resolve("tls"), TestSite.SITE_A, TestSite.SITE_B)) {
      ReplicationHarness.await("TLS link up", tls::up);
      try (ReplicationHarness h =
          new ReplicationHarness(
              dir,
              1,
              TestSite.FAST,
              s -> {
                nodeGeometry(s);
                Transport t = s.siteId.equals(TestSite.SITE_A) ? tls.atA() : tls.atB();
                s.transportWrapper = memory -> t;
              })) {
        h.awaitInSync();
        report("tls leader ", h.a.volume(0));
        report("tls follower", h.b.volume(0));
        report("tls leader ", h.a.volume(0));
        tls.close(); // before the sites: no frame reaches a closed replicator's loop
      }
    }
  }

  /** Round trips of one small frame over the TLS link, without replication. */
  @Test
  void tlsRoundTrip() throws Exception {
    try (TlsPair tls = TlsPair.open(dir.resolve("tls"), TestSite.SITE_A, TestSite.SITE_B)) {
      ReplicationHarness.await("TLS link up", tls::up);
      java.util.concurrent.SynchronousQueue<byte[]> back =
          new java.util.concurrent.SynchronousQueue<>();
      tls.atB().setReceiver(receiver(f -> tls.atB().send(f)));
      tls.atA()
          .setReceiver(
              receiver(
                  f -> {
                    try {
                      back.put(f);
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                  }));
      long[] rtt = new long[20_000];
      for (int i = 0; i < rtt.length; i++) {
        long t0 = System.nanoTime();
        assertThat(tls.atA().send(new byte[64])).isTrue();
        back.take();
        rtt[i] = System.nanoTime() - t0;
      }
      Arrays.sort(rtt);
      System.out.printf(
          "TLS RTT p50 %.1f us p99 %.1f us%n",
          rtt[rtt.length / 2] / 1e3, rtt[rtt.length * 99 / 100] / 1e3);
    }
  }

  private static Transport.Receiver receiver(java.util.function.Consumer<byte[]> onFrame) {
    return new Transport.Receiver() {
      @Override
      public void onFrame(byte[] frame) {
        onFrame.accept(frame);
      }

      @Override
      public void onLinkUp() {}

      @Override
      public void onLinkDown() {}
    };
  }

  private static void nodeGeometry(TestSite s) {
    s.volumeBytes = VOLUME;
    s.extentBytes = Long.getLong("duet.perf.extent", 4L << 20);
    s.maxExtents =
        Integer.getInteger(
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
