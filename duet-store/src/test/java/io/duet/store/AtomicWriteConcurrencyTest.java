package io.duet.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Writers fill a range that straddles a lock-region boundary with one byte value per atomic write
 * while readers read the whole range and parts of it: every read must see a single value (no mix of
 * two atomic writes, nor of an atomic write and the old data). Plain writes elsewhere and flushes
 * run at the same time, so the journal is retired under load.
 */
class AtomicWriteConcurrencyTest {
  private static final int WRITERS = 2;
  private static final int READERS = 3;
  private static final int WRITES_PER_WRITER = 150;
  private static final int LENGTH = 256 * 1024;

  @TempDir Path dir;

  @Test
  void readersNeverSeeAMix() throws Exception {
    try (VolumeStore store = VolumeStore.open(dir)) {
      LocalVolume v = store.create("atomic", 4L << 20, 512);
      long offset = (1L << RangeLock.REGION_SHIFT) - LENGTH / 2;
      v.write(offset, AtomicWriteTest.filled(LENGTH, 0), false);

      AtomicBoolean done = new AtomicBoolean();
      AtomicReference<Throwable> failure = new AtomicReference<>();
      ConcurrentLinkedQueue<String> mixes = new ConcurrentLinkedQueue<>();
      List<Thread> writers = new ArrayList<>();
      for (int w = 0; w < WRITERS; w++) {
        int base = 1 + w * WRITES_PER_WRITER;
        writers.add(
            Thread.ofPlatform()
                .start(
                    guarded(
                        failure,
                        () -> {
                          for (int i = 0; i < WRITES_PER_WRITER; i++) {
                            int value = (base + i) % 255 + 1;
                            v.writeAtomic(offset, AtomicWriteTest.filled(LENGTH, value), false);
                          }
                        })));
      }
      List<Thread> others = new ArrayList<>();
      for (int r = 0; r < READERS; r++) {
        // Reader 0 reads the whole range, the others a piece across the region boundary.
        int length = r == 0 ? LENGTH : LENGTH / 4;
        long from = r == 0 ? offset : offset + LENGTH / 2 - length / 2;
        others.add(
            Thread.ofPlatform()
                .start(
                    guarded(
                        failure,
                        () -> {
                          ByteBuffer dst = ByteBuffer.allocate(length);
                          while (!done.get()) {
                            dst.clear();
                            v.read(from, dst);
                            byte first = dst.get(0);
                            int at = dst.flip().mismatch(AtomicWriteTest.filled(length, first));
                            if (at >= 0) {
                              mixes.add("read at " + from + " mixed at byte " + at);
                            }
                          }
                        })));
      }
      others.add(
          Thread.ofPlatform()
              .start(
                  guarded(
                      failure,
                      () -> {
                        // Elsewhere: plain writes and flushes that retire the journal meanwhile.
                        while (!done.get()) {
                          v.write(3L << 20, AtomicWriteTest.filled(4096, 9), false);
                          v.flush();
                        }
                      })));
      for (Thread t : writers) {
        t.join();
      }
      done.set(true);
      for (Thread t : others) {
        t.join();
      }
      assertThat(failure.get()).isNull();
      assertThat(mixes).isEmpty();
      ByteBuffer end = ByteBuffer.allocate(LENGTH);
      v.read(offset, end);
      assertThat(end.array()).containsOnly(end.get(0));
    }
  }

  @FunctionalInterface
  interface Body {
    void run() throws Exception;
  }

  private static Runnable guarded(AtomicReference<Throwable> failure, Body body) {
    return () -> {
      try {
        body.run();
      } catch (Throwable t) {
        failure.compareAndSet(null, t);
      }
    };
  }
}
