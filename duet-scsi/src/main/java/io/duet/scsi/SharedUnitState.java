package io.duet.scsi;

import java.util.concurrent.CompletableFuture;

/**
 * Where a logical unit sends the commands that change its shared state (persistent reservations,
 * the effects of a reset, the caching mode page), so that a replicated unit applies them at both
 * sites in one order. The replication core implements it: it delivers each command to {@link
 * LogicalUnit#applyShared} at every site, in the same order everywhere, and completes the future
 * with the result of the application at this site (identical at both, as application is
 * deterministic). A future failed with {@code io.duet.store.VolumeUnavailableException} means this
 * site must not serve the unit. Without one, a unit applies its commands locally at once.
 */
@FunctionalInterface
public interface SharedUnitState {
  /** Orders {@code command} and applies it at every site; completes with this site's result. */
  CompletableFuture<byte[]> submit(byte[] command);
}
