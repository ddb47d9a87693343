package io.duet.mediator;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;

/**
 * The durable record of one relationship: immutable, replaced as a whole, written to disk before
 * any answer that depends on it. The leader's lease is not part of it (see {@link MediatorState}).
 *
 * @param groupId the consistency group
 * @param siteA one member
 * @param siteB the other member
 * @param epoch the recorded epoch, at least 1; never goes back
 * @param leader the leader in this epoch (a member)
 * @param inSync whether the sites were last recorded in sync
 * @param survivor when out of sync, the site that may serve alone; null when in sync
 * @param preElected the leader, when a pre-election is recorded; else null
 * @param contacts each member's last request (absent until its first)
 * @param pending while the record is unconfirmed (registered anew: this mediator may have lost the
 *     one it had, so it may lag what the sites did since), who must still report and the highest
 *     report so far; null once both sites have reported
 */
record Relationship(
    UUID groupId,
    UUID siteA,
    UUID siteB,
    long epoch,
    UUID leader,
    boolean inSync,
    UUID survivor,
    UUID preElected,
    Map<UUID, Contact> contacts,
    Pending pending) {

  /** When a site was last heard and which epoch it reported then. */
  record Contact(Instant at, long reportedEpoch) {}

  /** What one site reported in a heartbeat: its epoch, that epoch's leader, in sync or not. */
  record Report(long epoch, UUID leader, boolean inSync) {}

  /**
   * An unconfirmed record: the members that have not reported since it was registered, and the
   * report with the highest epoch so far (null before the first).
   */
  record Pending(Set<UUID> awaiting, Report best) {
    Pending {
      awaiting = Set.copyOf(awaiting);
    }
  }

  Relationship {
    Objects.requireNonNull(groupId, "groupId");
    Objects.requireNonNull(siteA, "siteA");
    Objects.requireNonNull(siteB, "siteB");
    Objects.requireNonNull(leader, "leader");
    if (siteA.equals(siteB)) {
      throw new IllegalArgumentException("a relationship needs two different sites");
    }
    if (epoch < 1) {
      throw new IllegalArgumentException("epoch must be at least 1, got " + epoch);
    }
    if (!isMember(siteA, siteB, leader)) {
      throw new IllegalArgumentException("leader " + leader + " is not a member");
    }
    // Invariants of the failover rules: out of sync names exactly one member as survivor.
    if (inSync != (survivor == null)) {
      throw new IllegalArgumentException("a survivor is recorded exactly when out of sync");
    }
    if (survivor != null && !isMember(siteA, siteB, survivor)) {
      throw new IllegalArgumentException("survivor " + survivor + " is not a member");
    }
    if (preElected != null && !preElected.equals(leader)) {
      throw new IllegalArgumentException("only the leader can be pre-elected");
    }
    contacts = Map.copyOf(contacts);
    if (pending != null) {
      for (UUID site : pending.awaiting()) {
        if (!isMember(siteA, siteB, site)) {
          throw new IllegalArgumentException("awaiting non-member " + site);
        }
      }
      if (pending.best() != null && !isMember(siteA, siteB, pending.best().leader())) {
        throw new IllegalArgumentException("reported leader is not a member");
      }
    }
    for (UUID site : contacts.keySet()) {
      if (!isMember(siteA, siteB, site)) {
        throw new IllegalArgumentException("contact of non-member " + site);
      }
    }
  }

  private static boolean isMember(UUID a, UUID b, UUID site) {
    return a.equals(site) || b.equals(site);
  }

  boolean isMember(UUID site) {
    return isMember(siteA, siteB, site);
  }

  /** A new epoch with its leader and sync state; a pre-election never outlives its epoch. */
  Relationship withEpoch(long nextEpoch, UUID nextLeader, boolean nowInSync, UUID nextSurvivor) {
    if (nextEpoch < epoch) {
      throw new IllegalStateException("epoch may not go back from " + epoch + " to " + nextEpoch);
    }
    return new Relationship(
        groupId,
        siteA,
        siteB,
        nextEpoch,
        nextLeader,
        nowInSync,
        nextSurvivor,
        null,
        contacts,
        pending);
  }

  Relationship withPreElected(UUID site) {
    return new Relationship(
        groupId, siteA, siteB, epoch, leader, inSync, survivor, site, contacts, pending);
  }

  /** The same record, unconfirmed ({@code next} non-null) or confirmed (null). */
  Relationship withPending(Pending next) {
    return new Relationship(
        groupId, siteA, siteB, epoch, leader, inSync, survivor, preElected, contacts, next);
  }

  /** A record registered anew: both members must report before it decides for either. */
  static Relationship registered(UUID groupId, UUID siteA, UUID siteB, long epoch, UUID leader) {
    return new Relationship(
        groupId,
        siteA,
        siteB,
        epoch,
        leader,
        true,
        null,
        null,
        Map.of(),
        new Pending(Set.of(siteA, siteB), null));
  }

  Relationship withContact(UUID site, Contact contact) {
    Map<UUID, Contact> next = new java.util.HashMap<>(contacts);
    next.put(site, contact);
    return new Relationship(
        groupId, siteA, siteB, epoch, leader, inSync, survivor, preElected, next, pending);
  }
}
