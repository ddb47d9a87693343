package io.duet.sync;

import java.util.UUID;

/**
 * A snapshot of one site's view of a consistency group: what the node shows in status, turns into
 * ALUA states and exports as metrics.
 *
 * @param resyncBytesDone bytes copied by this session's resync (leader side; after it finished, what
 *     it copied), else 0
 * @param resyncBytesTotal bytes this session's resync copies in all: the regions dirty in either
 *     site's map when it started, plus any dirtied again meanwhile; else 0
 * @param resyncEtaSeconds estimated seconds left at the configured rate, or -1
 */
public record ReplicationStatus(
    Role role,
    SyncState syncState,
    LinkState link,
    Availability availability,
    long epoch,
    UUID leaderId,
    long resyncBytesDone,
    long resyncBytesTotal,
    long resyncEtaSeconds) {

  /** Whether this site orders the group's writes. */
  public enum Role {
    LEADER,
    FOLLOWER
  }

  /** Whether the two sites hold the same data. */
  public enum SyncState {
    IN_SYNC,
    OUT_OF_SYNC,
    RESYNCING
  }

  /** Whether a session with the peer is established. */
  public enum LinkState {
    UP,
    DOWN
  }

  /** Whether this site serves I/O (ALUA active) or not (ALUA unavailable, NOT READY 02/04/0C). */
  public enum Availability {
    SERVING,
    UNAVAILABLE
  }
}
