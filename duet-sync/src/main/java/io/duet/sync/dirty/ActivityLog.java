package io.duet.sync.dirty;

import java.io.IOException;
import java.util.List;

/**
 * The activity log of one volume (DRBD's idea): the extents that may have writes in flight. An
 * extent is recorded durably before the first write into it is issued and stays recorded while it
 * is hot, so the cost is amortized; after a crash every extent the log holds may differ from the
 * peer and is resynchronized — never a full copy, never a missed region. Thread-safe.
 */
public interface ActivityLog extends AutoCloseable {
  long extentSizeBytes();

  /**
   * Called before a write to {@code [offset, offset + length)} is issued; returns once every extent
   * it touches is durably recorded as active.
   */
  void beginWrite(long offset, long length) throws IOException;

  /** The write has completed on both sites (or has been recorded in the dirty map). */
  void endWrite(long offset, long length);

  /**
   * The byte ranges {@code [offset, offset + length)} of the extents that were active when the log
   * was last opened: after an unclean stop they may differ from the peer.
   */
  List<Range> activeAtOpen();

  /**
   * Tells the log that the caller has durably recorded every range of {@link #activeAtOpen()}
   * elsewhere (marked it in the dirty map), so the log may stop carrying those ranges. Until then a
   * log keeps them in every transaction it writes, and a crash reports them again — so not calling
   * this, or an implementation that ignores it, costs extra copying, never a missed region.
   */
  default void releaseActiveAtOpen() throws IOException {}

  /**
   * Makes the volume's data durable and forgets every extent with no write in flight (not those
   * still reported at open): a site that has gone quiet then has nothing a power loss could take,
   * and its log says so. Logs that cannot forget early may ignore this (it costs extra copying
   * after a crash, never a missed region). Returns whether the log holds no extent any more.
   */
  default boolean releaseIdle() throws IOException {
    return true;
  }

  /** A byte range of the volume. */
  record Range(long offset, long length) {}

  @Override
  void close() throws IOException;
}
