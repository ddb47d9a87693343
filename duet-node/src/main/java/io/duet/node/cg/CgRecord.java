package io.duet.node.cg;

import java.util.List;
import java.util.Objects;

/**
 * A consistency group as this site persists it: identity, peer, policy settings and volumes (in the
 * group's order, the same at both sites).
 *
 * @param id the group id, the same at both sites (frames carry it)
 * @param sourceSiteId the site whose data the initial synchronization copies (the creator); it
 *     leads until the first resync is done
 * @param preferredLeaderId the site the operator asked to lead; the source hands over to it once
 *     the group is in sync
 * @param handedOver whether that handover has happened (or was not needed)
 * @param peer the peer site's ports and targets, as it reported them
 */
record CgRecord(
    String id,
    String name,
    String policy,
    String peerSiteId,
    String peerName,
    String sourceSiteId,
    String preferredLeaderId,
    boolean handedOver,
    boolean autoResync,
    boolean autoRecover,
    long resyncRate,
    List<VolumeSpec> volumes,
    SiteInfo peer) {

  static final String ACTIVE_ACTIVE = "active-active";

  CgRecord {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(policy, "policy");
    Objects.requireNonNull(peerSiteId, "peerSiteId");
    Objects.requireNonNull(sourceSiteId, "sourceSiteId");
    Objects.requireNonNull(preferredLeaderId, "preferredLeaderId");
    volumes = List.copyOf(volumes == null ? List.of() : volumes);
  }

  boolean hasVolume(String volume) {
    return volumes.stream().anyMatch(v -> v.name().equals(volume));
  }

  CgRecord withVolumes(List<VolumeSpec> v) {
    return copy(handedOver, autoResync, autoRecover, resyncRate, v, peer);
  }

  CgRecord withSettings(boolean resync, boolean recover, long rate) {
    return copy(handedOver, resync, recover, rate, volumes, peer);
  }

  CgRecord withHandedOver() {
    return copy(true, autoResync, autoRecover, resyncRate, volumes, peer);
  }

  CgRecord withPeer(SiteInfo p) {
    return copy(handedOver, autoResync, autoRecover, resyncRate, volumes, p);
  }

  /** This record with the fields that change over a group's life replaced. */
  private CgRecord copy(
      boolean handed, boolean resync, boolean recover, long rate, List<VolumeSpec> v, SiteInfo p) {
    return new CgRecord(
        id,
        name,
        policy,
        peerSiteId,
        peerName,
        sourceSiteId,
        preferredLeaderId,
        handed,
        resync,
        recover,
        rate,
        v,
        p);
  }

  /**
   * One volume of a group with the identity its twin at the peer gets.
   *
   * @param naa 32 hex digits
   */
  record VolumeSpec(
      String name, String uuid, String naa, String serial, long sizeBytes, int blockSize) {
    VolumeSpec {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(uuid, "uuid");
      Objects.requireNonNull(naa, "naa");
      Objects.requireNonNull(serial, "serial");
    }
  }
}
