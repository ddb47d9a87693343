package io.duet.sync;

/**
 * Receives a consistency group's state changes, resync progress and warnings; the node turns them
 * into events, metrics and ALUA states. Called on the replicator's event loop: must not block.
 */
public interface ReplicationListener {
  /** The status changed (role, sync state, link, availability, epoch or resync progress). */
  default void onStatus(ReplicationStatus status) {}

  /** Something an operator must see, such as a forced failover that may have lost data. */
  default void onWarning(String message) {}

  /** A listener that ignores everything. */
  ReplicationListener NONE = new ReplicationListener() {};
}
