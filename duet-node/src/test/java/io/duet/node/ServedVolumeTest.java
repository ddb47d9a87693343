package io.duet.node;

import static org.assertj.core.api.Assertions.assertThat;

import io.duet.store.ForwardingVolume;
import io.duet.store.LocalVolume;
import io.duet.store.VolumeStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServedVolumeTest {
  @TempDir Path dir;

  /** Holds writes until released, and says when one is inside. */
  static final class Gate extends ForwardingVolume {
    final CountDownLatch inside = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);

    /** Where the write records its end, inside the operation (before the volume lets go). */
    final List<String> order = new CopyOnWriteArrayList<>();

    Gate(LocalVolume v) {
      super(v);
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
      inside.countDown();
      try {
        release.await();
      } catch (InterruptedException e) {
        throw new IOException(e);
      }
      super.write(offset, src, fua);
      order.add("write done");
    }
  }

  @Test
  void aSwitchWaitsForOperationsOnTheOldVolume() throws Exception {
    try (VolumeStore store = VolumeStore.open(dir)) {
      LocalVolume local = store.create("v", 1 << 20, 512);
      ServedVolume served = new ServedVolume(local);
      Gate gate = new Gate(local);
      served.serve(gate);
      // Both record into the gate's list: "write done" inside the operation, "switched" once
      // the switch returned. (The writer's own "returned" would race with the switcher: the
      // operation ends, and lets the switch through, before the writer thread runs on.)
      List<String> order = gate.order;
      Thread writer =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      served.write(0, ByteBuffer.allocate(512), false);
                    } catch (IOException e) {
                      order.add("write failed " + e);
                    }
                  });
      assertThat(gate.inside.await(10, TimeUnit.SECONDS)).isTrue();
      Thread switcher =
          Thread.ofVirtual()
              .start(
                  () -> {
                    served.serve(null);
                    order.add("switched");
                  });
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (switcher.getState() != Thread.State.TIMED_WAITING
          && switcher.getState() != Thread.State.WAITING) {
        assertThat(System.nanoTime()).as("switcher blocks").isLessThan(deadline);
        Thread.onSpinWait();
      }
      assertThat(order).isEmpty();
      gate.release.countDown();
      writer.join(10_000);
      switcher.join(10_000);
      assertThat(order).containsExactly("write done", "switched");
    }
  }
}
