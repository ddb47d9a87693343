package io.duet.sync;

import java.util.UUID;

/**
 * A snapshot of one site's view of a consistency group: what the node shows in status, turns into
 * ALUA states and exports as metrics.
 *
 * @param resyncBytesDone bytes copied by this session's resync (leader side; after it finished,
 *     what it copied), else 0
 * @param resyncBytesTotal bytes this session's resync copies in all: the regions dirty in either
 *     site's map when it started, plus any dirtied again meanwhile; else 0
 * @param resyncEtaSeconds estimated seconds left at the configured rate, or -1
 * @param mediator this site's contact with the mediator
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
    long resyncEtaSeconds,
    MediatorStatus mediator) {

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

  /**
   * Whether this site serves I/O (ALUA active) or not: unavailable (NOT READY 02/04/0C), or
   * transitioning while the mediator decides whether it may go on alone (02/04/0A).
   */
  public enum Availability {
    SERVING,
    TRANSITIONING,
    UNAVAILABLE
  }

  /**
   * This site's contact with the mediator of the group.
   *
   * @param configured whether the group uses a mediator at all (when not, the rest is false/0)
   * @param connected whether the last call reached the mediator (within the last few heartbeats)
   * @param inQuorum connected, and the mediator records this site's epoch (this site is current)
   * @param preElected the sites agreed that the leader survives a link failure while the mediator
   *     is out of the leader's reach (automatic failover to the follower is off meanwhile)
   * @param leaseRemainingMs at the leader: how long its mediator lease still runs, in whole seconds
   *     (0 if none)
   * @param lastMessage the mediator's last answer or the last error reaching it, for operators
   */
  public record MediatorStatus(
      boolean configured,
      boolean connected,
      boolean inQuorum,
      boolean preElected,
      long leaseRemainingMs,
      String lastMessage) {
    /** No mediator configured. */
    public static final MediatorStatus NONE = new MediatorStatus(false, false, false, false, 0, "");
  }
}
