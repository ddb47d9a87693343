package io.duet.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Many threads run compare-and-write increments on a range straddling a lock-region boundary while
 * a writer overwrites the range with new epochs. The range holds (epoch, counter) repeated.
 * Atomicity implies: (1) no two successful CAWs started from the same value (no lost update), and
 * (2) no CAW that began after write(epoch e) returned succeeds from an older epoch (a plain write
 * never lands between a CAW's compare and its write).
 */
class CompareAndWriteConcurrencyTest {
  private static final int CAW_THREADS = 4;
  private static final int EPOCHS = 300;

  @TempDir Path dir;

  record Success(long epoch, long counter) {}

  @ParameterizedTest
  @ValueSource(ints = {512, 4096})
  void compareAndWriteIsAtomicAgainstWritesAndOtherCaws(int bs) throws Exception {
    try (VolumeStore store = VolumeStore.open(dir)) {
      LocalVolume v = store.create("caw", 4L << 20, bs);
      long offset = (1L << RangeLock.REGION_SHIFT) - bs;
      int length = 2 * bs;
      v.write(offset, fill(length, 0, 0), false);

      AtomicLong committedEpoch = new AtomicLong();
      AtomicBoolean done = new AtomicBoolean();
      AtomicReference<Throwable> failure = new AtomicReference<>();
      ConcurrentLinkedQueue<Success> successes = new ConcurrentLinkedQueue<>();
      ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
      List<Thread> threads = new ArrayList<>();
      for (int t = 0; t < CAW_THREADS; t++) {
        threads.add(
            Thread.ofPlatform()
                .start(
                    () -> {
                      try {
                        ByteBuffer current = ByteBuffer.allocate(length);
                        while (!done.get()) {
                          long floor = committedEpoch.get();
                          current.clear();
                          v.read(offset, current);
                          long epoch = current.getLong(0);
                          long counter = current.getLong(8);
                          if (v.compareAndWrite(
                                  offset, current.flip(), fill(length, epoch, counter + 1), false)
                              < 0) {
                            successes.add(new Success(epoch, counter));
                            if (epoch < floor) {
                              violations.add(
                                  "CAW from epoch "
                                      + epoch
                                      + " succeeded after epoch "
                                      + floor
                                      + " was written");
                            }
                          }
                        }
                      } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                      }
                    }));
      }
      // A neighbour writing next to the range in the same lock stripes must neither block nor tear.
      threads.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    try {
                      while (!done.get()) {
                        v.write(offset + length, fill(bs, 7, 7), false);
                      }
                    } catch (Throwable e) {
                      failure.compareAndSet(null, e);
                    }
                  }));
      for (long epoch = 1; epoch <= EPOCHS && failure.get() == null; epoch++) {
        v.write(offset, fill(length, epoch, 0), false);
        committedEpoch.set(epoch);
        Thread.onSpinWait();
      }
      done.set(true);
      for (Thread t : threads) {
        t.join();
      }

      assertThat(failure.get()).isNull();
      assertThat(violations).isEmpty();
      Set<Success> distinct = new HashSet<>(successes);
      assertThat(distinct).as("a value was CAW'd twice: a lost update").hasSameSizeAs(successes);
      ByteBuffer last = ByteBuffer.allocate(length);
      v.read(offset, last);
      assertThat(last.array()).isEqualTo(fill(length, last.getLong(0), last.getLong(8)).array());
      long finalEpoch = last.getLong(0);
      long increments = successes.stream().filter(s -> s.epoch() == finalEpoch).count();
      assertThat(last.getLong(8)).isEqualTo(increments);
      assertThat(successes).isNotEmpty();
    }
  }

  private static ByteBuffer fill(int length, long epoch, long counter) {
    ByteBuffer b = ByteBuffer.allocate(length);
    while (b.hasRemaining()) {
      b.putLong(epoch).putLong(counter);
    }
    return b.flip();
  }
}
