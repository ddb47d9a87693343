package io.duet.sync.dirty;

import java.io.IOException;

/**
 * The persistent record, for one volume and one peer, of the regions that differ from the peer or
 * may differ (replication.md "dirty map"): a bitmap of fixed-size regions (64 KiB by default). A
 * region is marked before the write that makes it differ is acknowledged, and cleared only when the
 * peer has the region's data. Thread-safe.
 */
public interface DirtyRegions extends AutoCloseable {
  long regionSizeBytes();

  long regionCount();

  /**
   * Marks every region overlapping {@code [offset, offset + length)} dirty; when any bit changed
   * from clean to dirty, the map is durable on disk before this returns.
   */
  void markDirty(long offset, long length) throws IOException;

  /** Marks one region clean; durable at the next {@link #sync()} (losing it only costs a copy). */
  void markClean(long region);

  /** Whether the region is marked; a mark counts once it is durable (its markDirty returned). */
  boolean isDirty(long region);

  long dirtyCount();

  /** The first dirty region at or after {@code fromRegion}, or -1. */
  long nextDirty(long fromRegion);

  /** Makes cleared bits durable too. */
  void sync() throws IOException;

  /** The volume grew: new regions start clean (both sites grow together). */
  void resize(long volumeSizeBytes) throws IOException;

  @Override
  void close() throws IOException;
}
