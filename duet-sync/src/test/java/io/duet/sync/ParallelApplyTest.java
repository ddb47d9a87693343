package io.duet.sync;

import static io.duet.sync.ReplicationHarness.await;
import static io.duet.sync.ReplicationHarness.block;
import static org.assertj.core.api.Assertions.assertThat;

import io.duet.store.ForwardingVolume;
import io.duet.store.Volume;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The follower applies independent writes in parallel (so a replicated write costs one round trip
 * however deep the host queue is) and overlapping ones strictly one after another, off the loop.
 */
class ParallelApplyTest {
  private static final int WRITERS = 8;
  @TempDir Path dir;

  /** Holds each write at the follower until the test opens the gate; counts those inside. */
  private static final class GateVolume extends ForwardingVolume {
    final AtomicInteger inside = new AtomicInteger();
    final AtomicInteger maxInside = new AtomicInteger();
    volatile boolean armed;
    volatile boolean open;

    GateVolume(Volume delegate) {
      super(delegate);
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
      int now = inside.incrementAndGet();
      maxInside.accumulateAndGet(now, Math::max);
      try {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (armed && !open && System.nanoTime() - deadline < 0) {
          LockSupport.parkNanos(1_000_000);
          if (Thread.interrupted()) {
            throw new InterruptedIOException();
          }
        }
        super.write(offset, src, fua);
      } finally {
        inside.decrementAndGet();
      }
    }
  }

  @Test
  void independentWritesApplyInParallelAtTheFollowerAndOverlappingOnesInOrder() throws Exception {
    GateVolume[] gate = new GateVolume[1];
    try (ReplicationHarness h =
        new ReplicationHarness(
            dir,
            1,
            TestSite.FAST,
            ReplicationHarness.atSiteB(s -> s.volumeWrapper = v -> gate[0] = new GateVolume(v)))) {
      h.awaitInSync();
      gate[0].armed = true;
      List<Thread> writers = new ArrayList<>();
      for (int i = 0; i < WRITERS; i++) {
        long blockNo = 10L * i;
        writers.add(
            Thread.ofVirtual()
                .start(
                    () -> {
                      try {
                        h.a.volume(0).write(blockNo * TestSite.BLOCK, block(1, blockNo), false);
                      } catch (IOException e) {
                        throw new AssertionError(e);
                      }
                    }));
      }
      // Every write is being applied at the follower at once: none waits for another.
      await("all writes inside the follower's volume", () -> gate[0].inside.get() == WRITERS);
      gate[0].open = true;
      for (Thread t : writers) {
        t.join();
      }

      // The same block from both sites, concurrently: applied one at a time, in one order.
      gate[0].armed = false;
      gate[0].maxInside.set(0);
      List<Thread> racers = new ArrayList<>();
      for (TestSite s : List.of(h.a, h.b, h.a, h.b)) {
        racers.add(
            Thread.ofVirtual()
                .start(
                    () -> {
                      for (int c = 0; c < 50; c++) {
                        try {
                          s.volume(0).write(3 * TestSite.BLOCK, block(2, c), false);
                        } catch (IOException e) {
                          throw new AssertionError(e);
                        }
                      }
                    }));
      }
      for (Thread t : racers) {
        t.join();
      }
      assertThat(gate[0].maxInside.get())
          .as("overlapping writes applied concurrently")
          .isEqualTo(1);
      h.assertIdentical();
    }
  }
}
