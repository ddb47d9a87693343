package io.duet.sync;

import io.duet.store.VolumeUnavailableException;

/**
 * This site does not serve the volume now; the host should use a path to the other site. The SCSI
 * layer maps it to NOT READY, LOGICAL UNIT NOT ACCESSIBLE, TARGET PORT IN UNAVAILABLE STATE
 * (02/04/0C). When thrown for a write, the write may or may not have taken effect.
 */
public final class UnavailableException extends VolumeUnavailableException {
  private static final long serialVersionUID = 1L;

  /** Why the site does not serve. */
  public enum Reason {
    /** Out of sync with the leader, or resynchronizing. */
    OUT_OF_SYNC,
    /** The session with the leader is down or the follower's lease has run out. */
    PEER_LOST,
    /** A higher epoch exists: this site was fenced and must resync from the new leader. */
    FENCED,
    /**
     * The leader holds no lease from the mediator and no promise from its follower: the mediator
     * may be promoting the follower.
     */
    NO_LEASE,
    /** Started and not yet proved current by the peer. */
    NOT_CONFIRMED,
    /** The replicator is closed. */
    CLOSED
  }

  private final Reason reason;

  public UnavailableException(Reason reason, String detail) {
    super(reason + ": " + detail);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
