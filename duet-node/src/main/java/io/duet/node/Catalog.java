package io.duet.node;

import io.duet.iscsi.TargetCatalog;
import io.duet.node.config.HostPort;
import io.duet.node.config.SiteConfig;
import io.duet.scsi.LunMap;
import io.duet.scsi.TargetPort;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's answer to the iSCSI target's questions at login and discovery, read from the current
 * {@link SiteState} snapshot. Keeps one live {@link LunMap} per (target, initiator) so that a
 * mapping change reaches sessions already logged in ({@link #refresh()}).
 */
final class Catalog implements TargetCatalog {
  /**
   * Bound on cached LUN maps: an initiator name gets one only after it is allowed in, but with a
   * {@code *} mapping any name is allowed, so a hostile client could otherwise grow the cache.
   */
  static final int MAX_LUN_MAPS = 10_000;

  private static final Logger log = LoggerFactory.getLogger(Catalog.class);

  private record Key(String target, String initiator) {}

  private final SiteConfig config;
  private final Supplier<SiteState> state;
  private final Units units;
  private final Map<Key, LunMap> maps = new HashMap<>();
  private volatile List<HostPort> portals = List.of();
  private volatile Function<Set<String>, List<DiscoveredTarget>> peerTargets = v -> List.of();

  Catalog(SiteConfig config, Supplier<SiteState> state, Units units) {
    this.config = config;
    this.state = state;
    this.units = units;
  }

  /**
   * Where discovery finds the other site's targets for the volumes an initiator sees here (those of
   * consistency groups), so a host learns every path with one SendTargets.
   */
  void peerTargets(Function<Set<String>, List<DiscoveredTarget>> lookup) {
    this.peerTargets = lookup;
  }

  /** The portals discovery announces (the addresses actually bound). */
  void portals(List<HostPort> bound) {
    this.portals = List.copyOf(bound);
  }

  String defaultTarget() {
    return config.targetPrefix();
  }

  /** Every target of the site: the default one first, then those created through the API. */
  List<String> targetNames(SiteState s) {
    List<String> names = new ArrayList<>();
    names.add(config.targetPrefix());
    s.targets().forEach(t -> names.add(t.name()));
    return names;
  }

  @Override
  public List<DiscoveredTarget> discover(String initiatorName) {
    SiteState s = state.get();
    Optional<SiteState.Host> host = s.hostByIqn(initiatorName);
    List<Portal> announced =
        portals.stream().map(p -> new Portal(p.host(), p.port(), config.portalGroupTag())).toList();
    List<DiscoveredTarget> out = new ArrayList<>();
    Set<String> volumes = new HashSet<>();
    for (String t : targetNames(s)) {
      List<SiteState.Mapping> visible = s.visible(t, host);
      if (!visible.isEmpty()) {
        out.add(new DiscoveredTarget(t, announced));
        visible.forEach(m -> volumes.add(m.volume()));
      }
    }
    for (DiscoveredTarget peer : peerTargets.apply(volumes)) {
      if (out.stream().noneMatch(d -> d.name().equals(peer.name()))) {
        out.add(peer);
      }
    }
    return out;
  }

  @Override
  public Optional<Target> target(String targetName) {
    if (targetName == null) {
      return Optional.empty();
    }
    String lower = targetName.toLowerCase(Locale.ROOT);
    return targetNames(state.get()).contains(lower)
        ? Optional.of(new SiteTarget(lower))
        : Optional.empty();
  }

  @Override
  public Optional<ChapCredentials> credentials(String initiatorName) {
    if (initiatorName == null) {
      return Optional.empty();
    }
    return state
        .get()
        .hostByIqn(initiatorName)
        .filter(h -> h.chapUser() != null)
        .map(Catalog::chap);
  }

  private static ChapCredentials chap(SiteState.Host h) {
    byte[] mutual =
        h.mutualSecret() == null ? null : h.mutualSecret().getBytes(StandardCharsets.UTF_8);
    return new ChapCredentials(
        h.chapUser(), h.chapSecret().getBytes(StandardCharsets.UTF_8), h.mutualUser(), mutual);
  }

  /** Recomputes every live LUN map from the current state and units (after any change). */
  synchronized void refresh() {
    SiteState s = state.get();
    maps.forEach(
        (key, map) -> map.replace(bindings(s.visible(key.target(), s.hostByIqn(key.initiator())))));
  }

  private SortedMap<Integer, LunMap.Binding> bindings(List<SiteState.Mapping> visible) {
    SortedMap<Integer, LunMap.Binding> out = new TreeMap<>();
    for (SiteState.Mapping m : visible) {
      units.get(m.volume()).ifPresent(u -> out.put(m.lun(), new LunMap.Binding(u, m.readOnly())));
    }
    return out;
  }

  private synchronized Optional<LunMap> lunsFor(String target, String initiatorName) {
    SiteState s = state.get();
    Optional<SiteState.Host> host = s.hostByIqn(initiatorName);
    List<SiteState.Mapping> visible = s.visible(target, host);
    // A known host may log in before anything is mapped to it (it sees LUNs appear later);
    // a stranger gets in only through a '*' mapping.
    if (host.isEmpty() && visible.isEmpty()) {
      return Optional.empty();
    }
    Key key = new Key(target, initiatorName.toLowerCase(Locale.ROOT));
    LunMap map = maps.get(key);
    if (map == null) {
      if (maps.size() >= MAX_LUN_MAPS) {
        log.warn(
            "refusing {} on {}: {} LUN maps cached already", initiatorName, target, MAX_LUN_MAPS);
        return Optional.empty();
      }
      map = new LunMap();
      map.replace(bindings(visible));
      maps.put(key, map);
    }
    return Optional.of(map);
  }

  /** One target of this site as the iSCSI layer sees it. */
  private final class SiteTarget implements Target {
    private final String name;
    private final TargetPort port;

    SiteTarget(String name) {
      this.name = name;
      this.port =
          new TargetPort(
              name + ",t,0x" + String.format(Locale.ROOT, "%04x", config.portalGroupTag()),
              name,
              config.relativeTargetPortId(),
              config.portGroupId());
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public TargetPort port() {
      return port;
    }

    @Override
    public Optional<LunMap> lunsFor(String initiatorName) {
      if (initiatorName == null || initiatorName.isEmpty()) {
        return Optional.empty();
      }
      return Catalog.this.lunsFor(name, initiatorName);
    }
  }
}
