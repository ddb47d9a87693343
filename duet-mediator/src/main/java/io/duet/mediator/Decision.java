package io.duet.mediator;

/**
 * The mediator's answer to a site: granted or refused, why, how long to wait before asking again (a
 * takeover refused while the leader's lease runs), and the recorded state so that a stale site
 * learns the current epoch and survivor from the same answer.
 *
 * @param granted whether the request took effect (or had already)
 * @param reason why not, or {@link Reason#NONE}
 * @param message a sentence for logs and operators
 * @param waitMs when refused for {@link Reason#LEASE_VALID}: milliseconds until a retry may succeed
 * @param leaseMs for a lease granted to the leader: its length, counted by the site from before it
 *     sent the request; 0 otherwise
 * @param relationship the state after the request
 */
public record Decision(
    boolean granted,
    Reason reason,
    String message,
    long waitMs,
    long leaseMs,
    RelationshipView relationship) {

  /** Why a request was refused. */
  public enum Reason {
    /** Granted. */
    NONE,
    /** Takeover: the leader's lease (plus the safety margin) has not yet run out; wait waitMs. */
    LEASE_VALID,
    /** Only the leader may do this (renew a lease, record out of sync). */
    NOT_LEADER,
    /** The asking site already leads; it records out of sync instead of taking over. */
    IS_LEADER,
    /** The site reported an older epoch than recorded: it is stale and must catch up first. */
    STALE_EPOCH,
    /** The other site is the recorded survivor: this site must not serve. */
    FENCED,
    /** The sites are recorded out of sync with the leader as survivor: this site is stale. */
    OUT_OF_SYNC,
    /** The leader was pre-elected as survivor: only a forced failover can promote this site. */
    PRE_ELECTED,
    /** The report contradicts the record (same epoch, other leader; unknown higher epoch). */
    CONFLICT,
    /**
     * The record was registered anew (the mediator may have lost the one it had) and waits for both
     * sites to report their epochs: it grants no out-of-sync record, takeover or pre-election
     * before.
     */
    UNCONFIRMED
  }
}
