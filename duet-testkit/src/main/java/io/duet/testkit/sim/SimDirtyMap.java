package io.duet.testkit.sim;

import io.duet.sync.dirty.DirtyRegions;
import java.util.BitSet;
import java.util.SplittableRandom;

/**
 * A dirty map with the persistence contract of the real one: a mark is durable before {@link
 * #markDirty} returns; a clear is durable at the next {@link #sync()}, and until then a power loss
 * may or may not keep it (the real map writes whole pages, so a later mark can carry a clear). The
 * durable bits outlive the site's process; {@link #crash} turns them into the state a restarted
 * site reads.
 */
final class SimDirtyMap implements DirtyRegions {
  private final long regionSize;
  private final long regions;
  private final BitSet durable = new BitSet();
  private final BitSet current = new BitSet();

  /** Called after every mark (the simulator watches for marks the resync never copies). */
  Runnable afterMark = () -> {};

  SimDirtyMap(long volumeBytes, long regionSize) {
    this.regionSize = regionSize;
    this.regions = (volumeBytes + regionSize - 1) / regionSize;
  }

  @Override
  public long regionSizeBytes() {
    return regionSize;
  }

  @Override
  public long regionCount() {
    return regions;
  }

  @Override
  public void markDirty(long offset, long length) {
    if (length <= 0) {
      return;
    }
    int first = (int) (offset / regionSize);
    int last = (int) Math.min(regions - 1, (offset + length - 1) / regionSize);
    current.set(first, last + 1);
    durable.set(first, last + 1);
    afterMark.run();
  }

  @Override
  public void markClean(long region) {
    current.clear((int) region);
  }

  @Override
  public boolean isDirty(long region) {
    return current.get((int) region);
  }

  @Override
  public long dirtyCount() {
    return current.cardinality();
  }

  @Override
  public long nextDirty(long fromRegion) {
    if (fromRegion >= regions) {
      return -1;
    }
    int r = current.nextSetBit((int) fromRegion);
    return r < 0 || r >= regions ? -1 : r;
  }

  @Override
  public void sync() {
    durable.clear();
    durable.or(current);
  }

  @Override
  public void resize(long volumeSizeBytes) {
    throw new UnsupportedOperationException("simulated volumes do not grow");
  }

  @Override
  public void close() {}

  /** The process stopped: with power lost, un-synced clears survive or not at random. */
  void crash(SplittableRandom rnd, boolean powerLoss) {
    for (int r = durable.nextSetBit(0); r >= 0; r = durable.nextSetBit(r + 1)) {
      if (!current.get(r) && (!powerLoss || rnd.nextBoolean())) {
        durable.clear(r); // the clear had reached the disk
      }
    }
    current.clear();
    current.or(durable);
  }

  @Override
  public String toString() {
    return current.toString();
  }
}
