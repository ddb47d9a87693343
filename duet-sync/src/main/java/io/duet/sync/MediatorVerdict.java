package io.duet.sync;

import java.util.Objects;
import java.util.UUID;

/**
 * The mediator's answer to one request, with what it records now, so a stale site learns the
 * current epoch, leader and survivor from the same answer.
 *
 * @param granted whether the request took effect (or had already)
 * @param refusal why not, or {@link Refusal#NONE}
 * @param message a sentence for logs and operators
 * @param waitMs for {@link Refusal#LEASE_VALID}: milliseconds until a retry may succeed
 * @param leaseMs for a lease granted to the leader: its length; 0 otherwise
 * @param epoch the recorded epoch after the request
 * @param leader the recorded leader
 * @param inSync whether the sites are recorded in sync
 * @param survivor when out of sync, the site recorded as the one that may serve; else null
 */
public record MediatorVerdict(
    boolean granted,
    Refusal refusal,
    String message,
    long waitMs,
    long leaseMs,
    long epoch,
    UUID leader,
    boolean inSync,
    UUID survivor) {

  /** Why the mediator refused; the names match the mediator's own reasons. */
  public enum Refusal {
    NONE,
    /** Takeover: the leader's lease (plus the safety margin) still runs; retry after waitMs. */
    LEASE_VALID,
    /** Only the leader may do this. */
    NOT_LEADER,
    /** The asking site leads: it records out of sync instead of taking over. */
    IS_LEADER,
    /** The site's epoch is older than recorded: it is stale. */
    STALE_EPOCH,
    /** The other site is the recorded survivor. */
    FENCED,
    /** The leader continues alone: this site lacks its writes. */
    OUT_OF_SYNC,
    /** The leader was pre-elected as survivor. */
    PRE_ELECTED,
    /** The report contradicts the record. */
    CONFLICT,
    /** The record is new (maybe lost and registered again) and waits for both sites' epochs. */
    UNCONFIRMED
  }

  public MediatorVerdict {
    Objects.requireNonNull(refusal, "refusal");
    Objects.requireNonNull(message, "message");
    Objects.requireNonNull(leader, "leader");
    if (granted != (refusal == Refusal.NONE)) {
      throw new IllegalArgumentException("a verdict is granted exactly when nothing is refused");
    }
  }
}
