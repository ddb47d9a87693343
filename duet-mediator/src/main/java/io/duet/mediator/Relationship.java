package io.duet.mediator;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;
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
    Map<UUID, Contact> contacts) {

  /** When a site was last heard and which epoch it reported then. */
  record Contact(Instant at, long reportedEpoch) {}

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
        groupId, siteA, siteB, nextEpoch, nextLeader, nowInSync, nextSurvivor, null, contacts);
  }

  Relationship withPreElected(UUID site) {
    return new Relationship(groupId, siteA, siteB, epoch, leader, inSync, survivor, site, contacts);
  }

  Relationship withContact(UUID site, Contact contact) {
    Map<UUID, Contact> next = new java.util.HashMap<>(contacts);
    next.put(site, contact);
    return new Relationship(
        groupId, siteA, siteB, epoch, leader, inSync, survivor, preElected, next);
  }
}
