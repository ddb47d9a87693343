package io.duet.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Random shared and exclusive holders over overlapping, wrapping and whole-volume ranges: every
 * holder marks the regions it covers, and an exclusive holder must find its regions unmarked.
 * Finishing at all shows the ascending stripe order rules out deadlock.
 */
class RangeLockTest {
  private static final int REGIONS = 3 * RangeLock.STRIPES; // ranges wrap around the stripes
  private static final long REGION = 1L << RangeLock.REGION_SHIFT;

  @Test
  void exclusiveHoldersNeverOverlapAnyOtherHolder() throws Exception {
    RangeLock lock = new RangeLock();
    AtomicIntegerArray holders = new AtomicIntegerArray(REGIONS); // -1 exclusive, n>0 shared
    AtomicReference<String> violation = new AtomicReference<>();
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 6; t++) {
      Random random = new Random(100 + t);
      threads.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    for (int i = 0; i < 3000; i++) {
                      long first = random.nextInt(REGIONS);
                      long count =
                          random.nextInt(50) == 0
                              ? REGIONS - first
                              : 1 + random.nextInt((int) Math.min(4, REGIONS - first));
                      long offset = first * REGION + random.nextInt(4096) * 256L;
                      long length = (count - 1) * REGION + 1 + random.nextInt(4096);
                      length = Math.min(length, REGIONS * REGION - offset);
                      hold(lock, holders, offset, length, random.nextInt(4) == 0, violation);
                    }
                  }));
    }
    for (Thread t : threads) {
      t.join();
    }
    assertThat(violation.get()).isNull();
    for (int r = 0; r < REGIONS; r++) {
      assertThat(holders.get(r)).isZero();
    }
  }

  private static void hold(
      RangeLock lock,
      AtomicIntegerArray holders,
      long offset,
      long length,
      boolean exclusive,
      AtomicReference<String> violation) {
    int first = (int) (offset / REGION);
    int last = (int) ((offset + length - 1) / REGION);
    if (exclusive) {
      lock.lockExclusive(offset, length);
    } else {
      lock.lockShared(offset, length);
    }
    try {
      for (int r = first; r <= last; r++) {
        int seen = exclusive ? holders.getAndSet(r, -1) : holders.getAndIncrement(r);
        if ((exclusive && seen != 0) || (!exclusive && seen < 0)) {
          violation.compareAndSet(null, "region " + r + " held " + seen + " on entry");
        }
      }
      Thread.onSpinWait();
      for (int r = first; r <= last; r++) {
        if (exclusive) {
          holders.set(r, 0);
        } else {
          holders.decrementAndGet(r);
        }
      }
    } finally {
      if (exclusive) {
        lock.unlockExclusive(offset, length);
      } else {
        lock.unlockShared(offset, length);
      }
    }
  }
}
