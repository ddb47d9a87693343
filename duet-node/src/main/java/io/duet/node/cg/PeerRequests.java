package io.duet.node.cg;

import io.duet.node.AdminException;
import io.duet.store.LocalVolume;
import io.duet.store.VolumeIdentity;
import io.duet.sync.link.ControlException;
import io.duet.sync.peering.PeerRecord;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * Answers the peer site's control requests: {@code site-info}, and the peer's half of creating a
 * group, adding a volume and deleting a group. Each is checked the way an operator request here
 * would be and refused with a message the peer's operator can act on; an accepted one is durable
 * before the answer.
 */
final class PeerRequests {
  private final ConsistencyGroups groups;

  PeerRequests(ConsistencyGroups groups) {
    this.groups = groups;
  }

  /** Handles one request from the site {@code peerId} (the site at the other end of the link). */
  byte[] handle(UUID peerId, byte[] body) throws ControlException, IOException {
    ControlWire.Request r = groups.wire.request(body);
    if (!r.from().siteId().equals(peerId.toString())) {
      throw new ControlException(
          "request claims to come from site " + r.from().siteId() + " over the link to " + peerId);
    }
    GroupSite site = groups.site;
    if (r.op().equals(ControlWire.SITE_INFO)) {
      return groups.wire.encode(site.info());
    }
    if (r.op().equals(ControlWire.CG_STATUS)) {
      // A read, like site-info: no lock, so it answers while an operation waits for the peer.
      ConsistencyGroups.Entry e =
          groups
              .byId(r.groupId())
              .filter(x -> x.record.peerSiteId().equals(peerId.toString()))
              .orElseThrow(
                  () ->
                      new ControlException(
                          "no consistency group "
                              + r.groupId()
                              + " with this peer at "
                              + site.name()));
      return groups.wire.encode(GroupViews.view(site, e));
    }
    groups.lock.lock();
    try {
      switch (r.op()) {
        case ControlWire.CG_CREATE -> create(peerId, r.from(), r.group());
        case ControlWire.CG_ADD_VOLUME -> addVolume(peerId, r.groupId(), r.volume());
        case ControlWire.CG_DELETE -> delete(peerId, r.groupId());
        default -> throw new ControlException("unknown control operation '" + r.op() + "'");
      }
      return groups.wire.encode(site.info());
    } catch (AdminException e) {
      throw new ControlException("site " + site.name() + ": " + e.getMessage());
    } finally {
      groups.lock.unlock();
    }
  }

  private void create(UUID peerId, SiteInfo from, CgRecord g) throws ControlException, IOException {
    GroupSite site = groups.site;
    String me = site.siteId().toString();
    if (!CgRecord.ACTIVE_ACTIVE.equals(g.policy())) {
      throw new ControlException("policy '" + g.policy() + "' is not supported at " + site.name());
    }
    if (!g.peerSiteId().equals(me)) {
      throw new ControlException(
          "group " + g.name() + " names site " + g.peerSiteId() + " as its peer, not " + me);
    }
    parseUuid(g.id());
    Optional<ConsistencyGroups.Entry> existing = groups.byId(g.id());
    if (existing.isPresent()) {
      return; // a retry of a create that succeeded here
    }
    if (groups.byName(g.name()).isPresent()) {
      throw new ControlException(
          "a consistency group named '" + g.name() + "' exists at " + site.name());
    }
    String clash = site.info().clashWith(from);
    if (clash != null) {
      throw new ControlException(clash);
    }
    PeerRecord peer =
        site.peerById(peerId)
            .orElseThrow(() -> new ControlException("site " + peerId + " is not paired"));
    List<String> created = new ArrayList<>();
    try {
      for (CgRecord.VolumeSpec v : g.volumes()) {
        groups.requireFree(v.name());
        if (twin(v)) {
          created.add(v.name());
        }
      }
      CgRecord mine =
          new CgRecord(
              g.id(),
              g.name(),
              g.policy(),
              peerId.toString(),
              peer.name(),
              g.sourceSiteId(),
              g.preferredLeaderId(),
              g.handedOver(),
              g.autoResync(),
              g.autoRecover(),
              g.resyncRate(),
              g.volumes(),
              from);
      // Twins that existed already may hold data: their allocated extents resync too.
      groups.adopt(mine, ConsistencyGroups.volumeNames(mine));
    } catch (ControlException | IOException | RuntimeException e) {
      for (String v : created) {
        site.volumeDropped(v);
      }
      throw e;
    }
    site.event(
        "cg.created",
        g.name(),
        "consistency group "
            + g.name()
            + " created by "
            + peer.name()
            + ", volumes "
            + ConsistencyGroups.volumeNames(g)
            + "; initial synchronization from "
            + peer.name());
  }

  private void addVolume(UUID peerId, String groupId, CgRecord.VolumeSpec v)
      throws ControlException, IOException {
    ConsistencyGroups.Entry e =
        groups
            .byId(groupId)
            .orElseThrow(() -> new ControlException("no consistency group " + groupId));
    if (!e.record.peerSiteId().equals(peerId.toString())) {
      throw new ControlException("group " + e.record.name() + " is not replicated with this peer");
    }
    if (e.record.hasVolume(v.name())) {
      return; // a retry
    }
    groups.requireFree(v.name());
    boolean created = twin(v);
    List<CgRecord.VolumeSpec> vs = new ArrayList<>(e.record.volumes());
    vs.add(v);
    try {
      groups.restart(e, e.record.withVolumes(vs), Set.of(v.name()));
    } catch (IOException | RuntimeException x) {
      if (created) {
        groups.site.volumeDropped(v.name());
      }
      throw x;
    }
    groups.site.event(
        "cg.volume.added",
        e.record.name(),
        "volume "
            + v.name()
            + " added to consistency group "
            + e.record.name()
            + " by "
            + e.record.peerName());
  }

  private void delete(UUID peerId, String groupId) throws ControlException, IOException {
    Optional<ConsistencyGroups.Entry> e = groups.byId(groupId);
    if (e.isEmpty()) {
      return; // deleted already
    }
    if (!e.get().record.peerSiteId().equals(peerId.toString())) {
      throw new ControlException(
          "group " + e.get().record.name() + " is not replicated with this peer");
    }
    String name = e.get().record.name();
    groups.drop(e.get());
    groups.site.event(
        "cg.deleted",
        name,
        "consistency group "
            + name
            + " deleted by "
            + e.get().record.peerName()
            + "; its volumes stay");
  }

  /**
   * Makes sure the twin of {@code v} exists here with the same identity; returns whether it was
   * created now.
   */
  private boolean twin(CgRecord.VolumeSpec v) throws ControlException, IOException {
    GroupSite site = groups.site;
    Optional<LocalVolume> existing = site.store().get(v.name());
    if (existing.isPresent()) {
      LocalVolume lv = existing.get();
      boolean same =
          lv.identity().naaHex().equals(v.naa())
              && lv.identity().serial().equals(v.serial())
              && lv.sizeBytes() == v.sizeBytes()
              && lv.blockSize() == v.blockSize();
      if (!same) {
        throw new ControlException(
            "volume '"
                + v.name()
                + "' exists at "
                + site.name()
                + " with another identity or size"
                + " (naa "
                + lv.identity().naaHex()
                + ", "
                + lv.sizeBytes()
                + " bytes); rename or delete it there");
      }
      return false;
    }
    VolumeIdentity id;
    try {
      id =
          new VolumeIdentity(
              parseUuid(v.uuid()), v.name(), HexFormat.of().parseHex(v.naa()), v.serial());
    } catch (IllegalArgumentException e) {
      throw new ControlException("volume '" + v.name() + "' has a bad identity: " + e.getMessage());
    }
    LocalVolume created;
    try {
      created = site.store().create(id, v.sizeBytes(), v.blockSize());
    } catch (IllegalArgumentException e) {
      throw new ControlException("cannot create volume '" + v.name() + "': " + e.getMessage());
    }
    site.volumeCreated(created);
    site.event(
        "volume.created", v.name(), "volume " + v.name() + " created as the twin of the peer's");
    return true;
  }

  private static UUID parseUuid(String s) throws ControlException {
    try {
      return UUID.fromString(s);
    } catch (IllegalArgumentException | NullPointerException e) {
      throw new ControlException("bad id '" + s + "'");
    }
  }
}
