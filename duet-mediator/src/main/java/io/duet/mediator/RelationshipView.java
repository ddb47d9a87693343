package io.duet.mediator;

import java.util.List;
import java.util.UUID;

/**
 * What the mediator records for one relationship, as sites and operators see it.
 *
 * @param groupId the consistency group
 * @param siteA one member site
 * @param siteB the other member site
 * @param epoch grows at every change of leader or sync state recorded here
 * @param leader the site that orders writes in this epoch
 * @param inSync whether both sites hold the same data (as last recorded)
 * @param survivor when out of sync, the one site that may serve; null when in sync
 * @param preElected the leader pre-elected as survivor while it cannot reach the mediator; null
 *     when none (a takeover is refused while one is recorded)
 * @param leaseRemainingMs how long the leader's lease still runs on the mediator's clock (0 when
 *     expired)
 * @param sites the last contact of each member site
 * @param awaiting while the record is unconfirmed (registered anew), the sites that have not yet
 *     reported their epoch; empty once confirmed
 */
public record RelationshipView(
    UUID groupId,
    UUID siteA,
    UUID siteB,
    long epoch,
    UUID leader,
    boolean inSync,
    UUID survivor,
    UUID preElected,
    long leaseRemainingMs,
    List<SiteContact> sites,
    List<UUID> awaiting) {

  public RelationshipView {
    sites = List.copyOf(sites);
    awaiting = awaiting == null ? List.of() : List.copyOf(awaiting);
  }

  /**
   * One member site's last contact.
   *
   * @param site the site
   * @param lastHeartbeat wall-clock time of its last request (ISO-8601), or null if never
   * @param ageMs milliseconds since then (-1 if never)
   * @param reportedEpoch the epoch it reported then (0 if never)
   */
  public record SiteContact(UUID site, String lastHeartbeat, long ageMs, long reportedEpoch) {}
}
