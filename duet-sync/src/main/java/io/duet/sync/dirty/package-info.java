/**
 * Dirty tracking for replication: which regions of a volume may differ from the peer.
 *
 * <p>Two records work together, as in DRBD. The {@link io.duet.sync.dirty.ActivityLog} holds the
 * few extents with writes in flight; it costs one fdatasync when a write enters a cold extent and
 * nothing while the extent stays hot. The {@link io.duet.sync.dirty.DirtyRegions} map holds every
 * region the peer is known (or feared) not to have; it is written when the peer stops
 * acknowledging, and cleared region by region as resync copies data.
 *
 * <p>The order a replicated write follows, so that no crash can lose a region:
 *
 * <ol>
 *   <li>{@code activityLog.beginWrite(range)} — durable before the write is issued anywhere;
 *   <li>issue the write locally and to the peer;
 *   <li>if the peer did not apply it, {@code dirtyMap.markDirty(range)} before acknowledging the
 *       host (durable on return);
 *   <li>{@code activityLog.endWrite(range)}.
 * </ol>
 *
 * <p>On start, before serving I/O: for each range of {@code activityLog.activeAtOpen()} call {@code
 * dirtyMap.markDirty(range)}, then {@code activityLog.releaseActiveAtOpen()}; the union of both
 * sites' dirty maps is what resync copies. Clear a region with {@code markClean} only after the
 * peer has durably written its data, and call {@code sync()} from time to time (a lost clear costs
 * one extra copy after a crash, nothing more).
 */
package io.duet.sync.dirty;
