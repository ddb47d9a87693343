package io.duet.store;

import java.util.concurrent.locks.StampedLock;

/**
 * Striped locks over 1 MiB regions of a volume. Plain writes, zeroing and unmap take the regions
 * they touch shared; compare-and-write takes them exclusive, so nothing interleaves with its
 * compare and its write. Stripes are always taken in ascending index order, which rules out
 * deadlock between multi-region holders.
 *
 * <p>Neither locking nor unlocking allocates: a holder releases without stamps through {@link
 * StampedLock#tryUnlockRead()} / {@link StampedLock#tryUnlockWrite()}. The locks are not reentrant
 * and not interruptible (a cancelled command must not leave a region half-written).
 */
final class RangeLock {
  static final int REGION_SHIFT = 20;
  static final int STRIPES = 128;

  private final StampedLock[] stripes = new StampedLock[STRIPES];

  RangeLock() {
    for (int i = 0; i < STRIPES; i++) {
      stripes[i] = new StampedLock();
    }
  }

  void lockShared(long offset, long length) {
    forEachStripe(offset, length, Op.LOCK_SHARED);
  }

  void unlockShared(long offset, long length) {
    forEachStripe(offset, length, Op.UNLOCK_SHARED);
  }

  void lockExclusive(long offset, long length) {
    forEachStripe(offset, length, Op.LOCK_EXCLUSIVE);
  }

  void unlockExclusive(long offset, long length) {
    forEachStripe(offset, length, Op.UNLOCK_EXCLUSIVE);
  }

  private enum Op {
    LOCK_SHARED,
    UNLOCK_SHARED,
    LOCK_EXCLUSIVE,
    UNLOCK_EXCLUSIVE
  }

  /** Applies {@code op} to the stripes covering the range, in ascending stripe order. */
  private void forEachStripe(long offset, long length, Op op) {
    long first = offset >>> REGION_SHIFT;
    long last = (offset + Math.max(length, 1) - 1) >>> REGION_SHIFT;
    if (last - first + 1 >= STRIPES) {
      apply(0, STRIPES - 1, op);
      return;
    }
    int from = (int) (first % STRIPES);
    int to = (int) (last % STRIPES);
    if (from <= to) {
      apply(from, to, op);
    } else {
      // The range wraps around the stripe array: the low stripes come first in ascending order.
      apply(0, to, op);
      apply(from, STRIPES - 1, op);
    }
  }

  private void apply(int from, int to, Op op) {
    for (int i = from; i <= to; i++) {
      StampedLock lock = stripes[i];
      switch (op) {
        case LOCK_SHARED -> lock.readLock();
        case UNLOCK_SHARED -> {
          boolean released = lock.tryUnlockRead();
          assert released : "stripe " + i + " was not read-locked";
        }
        case LOCK_EXCLUSIVE -> lock.writeLock();
        case UNLOCK_EXCLUSIVE -> {
          boolean released = lock.tryUnlockWrite();
          assert released : "stripe " + i + " was not write-locked";
        }
      }
    }
  }
}
