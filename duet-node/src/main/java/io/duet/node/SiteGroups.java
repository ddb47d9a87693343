package io.duet.node;

import io.duet.iscsi.TargetCatalog.DiscoveredTarget;
import io.duet.iscsi.TargetCatalog.Portal;
import io.duet.node.cg.ConsistencyGroups;
import io.duet.node.cg.GroupSite;
import io.duet.node.cg.SiteInfo;
import io.duet.node.config.HostPort;
import io.duet.node.config.SiteConfig;
import io.duet.node.mediator.SiteMediator;
import io.duet.scsi.LogicalUnit;
import io.duet.scsi.Proximity;
import io.duet.scsi.SharedUnitState;
import io.duet.scsi.UnitAlua;
import io.duet.store.LocalVolume;
import io.duet.store.Volume;
import io.duet.store.VolumeStore;
import io.duet.sync.Mediator;
import io.duet.sync.SharedStateMachine;
import io.duet.sync.link.LinkChannels;
import io.duet.sync.peering.PeerRecord;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The site as its consistency groups see it ({@link GroupSite}): units and NBD exports switch to
 * replicated volumes, each group volume's unit gets a two-site ALUA view whose host proximity comes
 * from the hosts' {@code site}, and discovery lists the peer's targets for group volumes.
 */
final class SiteGroups implements GroupSite {
  private static final Logger log = LoggerFactory.getLogger(SiteGroups.class);

  private final SiteConfig config;
  private final StateStore state;
  private final VolumeStore store;
  private final Units units;
  private final Catalog catalog;
  private final SiteAdmin admin;
  private final EventLog events;
  private final Peering peering;
  private final SiteMediator mediator;
  private final Map<String, UnitAlua> views = new ConcurrentHashMap<>();
  private volatile ConsistencyGroups groups;

  SiteGroups(
      SiteConfig config,
      StateStore state,
      VolumeStore store,
      Units units,
      Catalog catalog,
      SiteAdmin admin,
      EventLog events,
      Peering peering,
      SiteMediator mediator) {
    this.config = config;
    this.state = state;
    this.store = store;
    this.units = units;
    this.catalog = catalog;
    this.admin = admin;
    this.events = events;
    this.peering = peering;
    this.mediator = mediator;
  }

  /** Wires the groups into discovery and NBD; called once they exist. */
  void attach(ConsistencyGroups g) {
    this.groups = g;
    catalog.peerTargets(this::peerTargets);
    admin.nbd().volumes(units::served);
  }

  @Override
  public String name() {
    return config.name();
  }

  @Override
  public UUID siteId() {
    return UUID.fromString(state.get().siteUuid());
  }

  @Override
  public Path dataDir() {
    return config.dataDir();
  }

  @Override
  public SiteInfo info() {
    return new SiteInfo(
        config.name(),
        state.get().siteUuid(),
        config.portGroupId(),
        List.of(config.relativeTargetPortId()),
        catalog.targetNames(state.get()),
        admin.boundPortals().stream().map(HostPort::toString).toList(),
        config.portalGroupTag());
  }

  @Override
  public VolumeStore store() {
    return store;
  }

  @Override
  public Optional<PeerRecord> peerByName(String name) {
    return peering.byName(name);
  }

  @Override
  public Optional<PeerRecord> peerById(UUID siteId) {
    return peering.byId(siteId);
  }

  @Override
  public Optional<LinkChannels> channels(UUID peerSiteId) {
    return peering.channels(peerSiteId);
  }

  @Override
  public Mediator mediator(UUID groupId, UUID peerSiteId, UUID leaderHint) {
    return mediator.forGroup(groupId, peerSiteId, leaderHint);
  }

  @Override
  public Optional<String> mediatorAddress() {
    return mediator.address();
  }

  @Override
  public void forgetAtMediator(UUID groupId, String name) {
    mediator.forget(groupId, name);
  }

  @Override
  public void event(String type, String subject, String message) {
    events.record(type, subject, message);
  }

  @Override
  public void volumeCreated(LocalVolume volume) {
    units.add(volume);
  }

  @Override
  public void volumeDropped(String volume) {
    units.remove(volume);
    try {
      store.delete(volume);
    } catch (IOException e) {
      // The twin stays as an ordinary volume the operator can delete; say so.
      events.record(
          "volume.failed",
          volume,
          "twin volume " + volume + " could not be removed: " + e.getMessage());
    }
  }

  @Override
  public void serve(String volume, Volume served) {
    units.serve(volume, served);
  }

  @Override
  public void shareUnitState(String volume, SharedUnitState via) {
    units.useSharedState(volume, via);
  }

  /**
   * The group's volumes' units as one replicated state machine: commands and snapshots go to the
   * unit of the volume with that index in the group (looked up at each call).
   */
  @Override
  public SharedStateMachine unitState(List<String> volumes) {
    List<String> names = List.copyOf(volumes);
    return new SharedStateMachine() {
      @Override
      public byte[] apply(int volume, byte[] command) {
        return unit(volume).map(u -> u.applyShared(command)).orElse(new byte[0]);
      }

      @Override
      public byte[] snapshot(int volume) {
        return unit(volume).map(LogicalUnit::sharedSnapshot).orElse(new byte[0]);
      }

      @Override
      public void install(int volume, byte[] snapshot) {
        Optional<LogicalUnit> u = unit(volume);
        try {
          u.ifPresent(x -> x.installShared(snapshot));
        } catch (IllegalArgumentException e) {
          // The leader's snapshot is unreadable here: keep ours, and say so loudly.
          events.record(
              "cg.warning",
              names.get(volume),
              "unit state (reservations, write cache) from the peer for "
                  + names.get(volume)
                  + " not installed: "
                  + e.getMessage());
        }
      }

      private Optional<LogicalUnit> unit(int volume) {
        return volume < 0 || volume >= names.size()
            ? Optional.empty()
            : units.get(names.get(volume));
      }
    };
  }

  @Override
  public void alua(List<String> volumes, AluaStates s) {
    for (String v : volumes) {
      if (s == null) {
        views.remove(v);
        units.useAlua(v, null);
        continue;
      }
      UnitAlua view = views.get(v);
      if (view == null || !samePorts(view, s)) {
        // New, or a site's ports changed (a peer reconfigured and restarted): build it again.
        view = newView(s);
        views.put(v, view);
      } else {
        view.setBaseState(s.local().portGroupId(), s.localState());
        if (hasPeerGroup(s)) {
          view.setBaseState(s.peer().portGroupId(), s.peerState());
        }
      }
      units.useAlua(v, view);
    }
  }

  private static boolean hasPeerGroup(AluaStates s) {
    return s.peer() != null && s.peer().portGroupId() != s.local().portGroupId();
  }

  /** Whether {@code view} has exactly the port groups and ports of {@code s}. */
  private static boolean samePorts(UnitAlua view, AluaStates s) {
    Map<Integer, List<Integer>> want = new HashMap<>();
    want.put(s.local().portGroupId(), s.local().relativePortIds());
    if (hasPeerGroup(s)) {
      want.put(s.peer().portGroupId(), s.peer().relativePortIds());
    }
    Map<Integer, List<Integer>> have = new HashMap<>();
    view.groups().forEach(g -> have.put(g.id(), g.relativePortIds()));
    return want.equals(have);
  }

  private UnitAlua newView(AluaStates s) {
    List<UnitAlua.PortGroup> pg = new ArrayList<>();
    pg.add(
        new UnitAlua.PortGroup(
            s.local().portGroupId(), s.localState(), s.local().relativePortIds()));
    if (hasPeerGroup(s)) {
      pg.add(
          new UnitAlua.PortGroup(
              s.peer().portGroupId(), s.peerState(), s.peer().relativePortIds()));
    }
    return new UnitAlua(pg, proximity(s.peer()));
  }

  /** The hosts changed: every two-site view takes the hosts' sites again. */
  void hostsChanged() {
    for (UnitAlua view : views.values()) {
      int peerGroup =
          view.groups().stream()
              .mapToInt(UnitAlua.PortGroup::id)
              .filter(id -> id != config.portGroupId())
              .findFirst()
              .orElse(-1);
      view.setProximity(proximity(peerGroup));
    }
  }

  private Proximity proximity(SiteInfo peer) {
    return proximity(peer == null ? -1 : peer.portGroupId());
  }

  /**
   * Host to local port group, from a snapshot of the hosts: a host at this site prefers this site's
   * group; a host at any other named site prefers the peer's; "all" prefers none.
   */
  private Proximity proximity(int peerGroup) {
    Map<String, Integer> byIqn = new HashMap<>();
    for (SiteState.Host h : state.get().hosts()) {
      int group;
      if (h.site().equals(SiteState.ALL_SITES)) {
        group = Proximity.ALL;
      } else if (h.site().equals(config.name())) {
        group = config.portGroupId();
      } else {
        group = peerGroup < 0 ? Proximity.ALL : peerGroup;
      }
      for (String iqn : h.iqns()) {
        byIqn.put(iqn, group);
      }
    }
    return initiator ->
        initiator == null
            ? Proximity.ALL
            : byIqn.getOrDefault(initiator.toLowerCase(java.util.Locale.ROOT), Proximity.ALL);
  }

  /** The peer's default target and portals for the group volumes among {@code volumes}. */
  private List<DiscoveredTarget> peerTargets(Set<String> volumes) {
    ConsistencyGroups g = groups;
    if (g == null || volumes.isEmpty()) {
      return List.of();
    }
    List<DiscoveredTarget> out = new ArrayList<>();
    for (SiteInfo peer : g.peersOf(volumes)) {
      if (peer.targets().isEmpty()) {
        continue;
      }
      List<Portal> portals = new ArrayList<>();
      for (String p : peer.portals()) {
        try {
          HostPort hp = HostPort.parse(p);
          portals.add(new Portal(hp.host(), hp.port(), peer.portalGroupTag()));
        } catch (IllegalArgumentException e) {
          log.warn("peer {} reported a bad portal {}: {}", peer.name(), p, e.getMessage());
        }
      }
      out.add(new DiscoveredTarget(peer.targets().get(0), portals));
    }
    return out;
  }
}
