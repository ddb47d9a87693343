package io.duet.node;

import io.duet.iscsi.IscsiServer;
import io.duet.nbd.NbdSettings;
import io.duet.node.config.HostPort;
import io.duet.node.config.SiteConfig;
import io.duet.scsi.AluaGroups;
import io.duet.scsi.AluaState;
import io.duet.store.LocalVolume;
import io.duet.store.VolumeStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * Every administrative operation of a site, validated and applied in one order: change the store or
 * the sockets, save the state durably, refresh the live LUN maps, record an event. Operations run
 * one at a time (they are rare); logins read snapshots and never wait for them.
 *
 * <p>Refusals are {@link AdminException}s; I/O failures propagate as {@link IOException}.
 */
final class SiteAdmin {
  static final int MAX_LUN = 255;

  private final SiteConfig config;
  private final StateStore state;
  private final VolumeStore store;
  private final Units units;
  private final Catalog catalog;
  private final IscsiServer iscsi;
  private final AluaGroups alua;
  private final EventLog events;
  private final ReentrantLock lock = new ReentrantLock();
  private final Portals portals;
  private final NbdExports nbd;

  /** The consistency group a volume is in, if any: such a volume is neither deleted nor resized. */
  private volatile Function<String, Optional<String>> groupOf = v -> Optional.empty();

  /** Told after every host change (the groups' ALUA views follow the hosts' sites). */
  private volatile Runnable hostsChanged = () -> {};

  SiteAdmin(
      SiteConfig config,
      StateStore state,
      VolumeStore store,
      Units units,
      Catalog catalog,
      IscsiServer iscsi,
      AluaGroups alua,
      EventLog events,
      NbdSettings nbdSettings) {
    this.config = config;
    this.state = state;
    this.store = store;
    this.units = units;
    this.catalog = catalog;
    this.iscsi = iscsi;
    this.alua = alua;
    this.events = events;
    this.portals = new Portals(iscsi, catalog, config.portalGroupTag());
    this.nbd = new NbdExports(state, store, events, lock, nbdSettings);
  }

  /** Connects the consistency groups: volume guards and host proximity. */
  void groups(Function<String, Optional<String>> groupOfVolume, Runnable onHostsChanged) {
    this.groupOf = groupOfVolume;
    this.hostsChanged = onHostsChanged;
  }

  private void requireUngrouped(String volume, String what) {
    Optional<String> g = groupOf.apply(volume);
    if (g.isPresent()) {
      throw AdminException.conflict(
          "volume '" + volume + "' is in consistency group '" + g.get() + "'; " + what);
    }
  }

  /** The volume hosts reach by this name (replicated for a consistency group's volume). */
  Optional<io.duet.store.Volume> served(String volume) {
    return units.served(volume);
  }

  Optional<io.duet.scsi.LogicalUnit> unit(String volume) {
    return units.get(volume);
  }

  /** NBD listeners and exports (they share this object's lock and state). */
  NbdExports nbd() {
    return nbd;
  }

  SiteConfig config() {
    return config;
  }

  SiteState state() {
    return state.get();
  }

  EventLog events() {
    return events;
  }

  // ---- volumes ----

  List<Views.Volume> volumes() {
    SiteState s = state.get();
    return store.list().stream()
        .map(v -> Views.Volume.of(v, mappingIds(s, v.identity().name())))
        .toList();
  }

  Views.Volume volume(String name) {
    LocalVolume v = findVolume(name);
    return Views.Volume.of(v, mappingIds(state.get(), v.identity().name()));
  }

  Views.Volume createVolume(String name, long sizeBytes, int blockSize) throws IOException {
    if (blockSize != 512 && blockSize != 4096) {
      throw AdminException.invalid("blockSize must be 512 or 4096, got " + blockSize);
    }
    if (sizeBytes <= 0 || sizeBytes % blockSize != 0) {
      throw AdminException.invalid(
          "size must be a positive multiple of the block size "
              + blockSize
              + ", got "
              + sizeBytes
              + " bytes");
    }
    lock.lock();
    try {
      if (store.get(name).isPresent()) {
        throw AdminException.conflict("volume '" + name + "' exists already");
      }
      LocalVolume v;
      try {
        v = store.create(name, sizeBytes, blockSize);
      } catch (IllegalArgumentException e) {
        throw AdminException.invalid(e.getMessage());
      }
      units.add(v);
      events.record(
          "volume.created",
          v.identity().name(),
          "volume "
              + v.identity().name()
              + " created, "
              + ByteSize.format(sizeBytes)
              + ", "
              + blockSize
              + " B blocks");
      return Views.Volume.of(v, List.of());
    } finally {
      lock.unlock();
    }
  }

  Views.Volume resizeVolume(String name, long newSizeBytes) throws IOException {
    lock.lock();
    try {
      LocalVolume v = findVolume(name);
      String canonical = v.identity().name();
      if (newSizeBytes <= 0 || newSizeBytes % v.blockSize() != 0) {
        throw AdminException.invalid(
            "size must be a positive multiple of the block size "
                + v.blockSize()
                + ", got "
                + newSizeBytes
                + " bytes");
      }
      if (newSizeBytes < v.sizeBytes()) {
        throw AdminException.invalid(
            "volume '"
                + canonical
                + "' is "
                + v.sizeBytes()
                + " bytes; shrinking is not supported");
      }
      if (newSizeBytes > v.sizeBytes()) {
        requireUngrouped(canonical, "resizing replicated volumes is not supported yet");
        try {
          store.resize(canonical, newSizeBytes);
        } catch (IllegalArgumentException e) {
          throw AdminException.invalid(e.getMessage());
        }
        units.get(canonical).ifPresent(io.duet.scsi.LogicalUnit::capacityChanged);
        events.record(
            "volume.resized",
            canonical,
            "volume " + canonical + " resized to " + ByteSize.format(newSizeBytes));
      }
      return volume(canonical);
    } finally {
      lock.unlock();
    }
  }

  void deleteVolume(String name, boolean force) throws IOException {
    lock.lock();
    try {
      String canonical = findVolume(name).identity().name();
      requireUngrouped(canonical, "remove it from the group (delete the group) first");
      List<Long> mapped = mappingIds(state.get(), canonical);
      if (!mapped.isEmpty() && !force) {
        throw AdminException.conflict(
            "volume '"
                + canonical
                + "' is mapped (mapping ids "
                + mapped
                + "); unmap it first or delete with force");
      }
      List<String> exported = nbd.exportsOf(canonical);
      if (!exported.isEmpty() && !force) {
        throw AdminException.conflict(
            "volume '"
                + canonical
                + "' is exported over NBD as "
                + exported
                + "; unexport it first or delete with force");
      }
      for (String e : exported) {
        nbd.delete(e); // clients must go before the volume's files do
      }
      if (!mapped.isEmpty()) {
        // Hosts must stop seeing the unit before its files go away.
        update(
            s ->
                s.withMappings(
                    s.mappings().stream().filter(m -> !m.volume().equals(canonical)).toList(),
                    s.nextMappingId()));
      }
      units.remove(canonical);
      store.delete(canonical);
      events.record(
          "volume.deleted",
          canonical,
          "volume "
              + canonical
              + " deleted"
              + (mapped.isEmpty() ? "" : " with its mappings " + mapped));
    } finally {
      lock.unlock();
    }
  }

  private LocalVolume findVolume(String name) {
    return store.get(name).orElseThrow(() -> AdminException.notFound("no volume '" + name + "'"));
  }

  private static List<Long> mappingIds(SiteState s, String volume) {
    return s.mappings().stream()
        .filter(m -> m.volume().equals(volume))
        .map(SiteState.Mapping::id)
        .toList();
  }

  // ---- hosts ----

  List<Views.Host> hosts() {
    return state.get().hosts().stream().map(Views.Host::of).toList();
  }

  Views.Host host(String name) {
    return Views.Host.of(findHost(state.get(), name));
  }

  /** The stored host, secrets included, for the API to merge a partial update into. */
  SiteState.Host storedHost(String name) {
    return findHost(state.get(), name);
  }

  Views.Host createHost(SiteState.Host host) throws IOException {
    lock.lock();
    try {
      SiteState.Host valid = HostRules.validate(host);
      if (state.get().host(valid.name()).isPresent()) {
        throw AdminException.conflict("host '" + valid.name() + "' exists already");
      }
      HostRules.checkIqnsFree(state.get(), valid, null);
      update(s -> s.withHosts(append(s.hosts(), valid)));
      events.record(
          "host.created",
          valid.name(),
          "host "
              + valid.name()
              + " created with "
              + valid.iqns().size()
              + " initiator(s)"
              + (valid.chapUser() != null ? ", CHAP" : ""));
      hostsChanged.run();
      return Views.Host.of(valid);
    } finally {
      lock.unlock();
    }
  }

  /** Replaces host {@code name} with {@code host} (same name; the API merged the changes in). */
  Views.Host replaceHost(String name, SiteState.Host host) throws IOException {
    lock.lock();
    try {
      findHost(state.get(), name);
      SiteState.Host valid = HostRules.validate(host);
      if (!valid.name().equals(name)) {
        throw AdminException.invalid("a host cannot be renamed");
      }
      HostRules.checkIqnsFree(state.get(), valid, name);
      update(
          s ->
              s.withHosts(s.hosts().stream().map(h -> h.name().equals(name) ? valid : h).toList()));
      events.record("host.updated", name, "host " + name + " updated");
      hostsChanged.run();
      return Views.Host.of(valid);
    } finally {
      lock.unlock();
    }
  }

  void deleteHost(String name, boolean force) throws IOException {
    lock.lock();
    try {
      findHost(state.get(), name);
      List<Long> mapped =
          state.get().mappings().stream()
              .filter(m -> m.host().equals(name))
              .map(SiteState.Mapping::id)
              .toList();
      if (!mapped.isEmpty() && !force) {
        throw AdminException.conflict(
            "host '"
                + name
                + "' has mappings "
                + mapped
                + "; unmap them first or delete with force");
      }
      update(
          s ->
              s.withHosts(s.hosts().stream().filter(h -> !h.name().equals(name)).toList())
                  .withMappings(
                      s.mappings().stream().filter(m -> !m.host().equals(name)).toList(),
                      s.nextMappingId()));
      events.record("host.deleted", name, "host " + name + " deleted");
      hostsChanged.run();
    } finally {
      lock.unlock();
    }
  }

  private static SiteState.Host findHost(SiteState s, String name) {
    return s.host(name).orElseThrow(() -> AdminException.notFound("no host '" + name + "'"));
  }

  // ---- mappings ----

  List<SiteState.Mapping> mappings() {
    return state.get().mappings();
  }

  SiteState.Mapping mapping(long id) {
    return state.get().mappings().stream()
        .filter(m -> m.id() == id)
        .findFirst()
        .orElseThrow(() -> AdminException.notFound("no mapping " + id));
  }

  /**
   * Maps a volume.
   *
   * @param target a target name or short suffix; null for the site's default target
   * @param lun null for the lowest LUN free in what the host sees on that target
   */
  SiteState.Mapping createMapping(
      String volume, String host, String target, Integer lun, boolean readOnly) throws IOException {
    if (lun != null && (lun < 0 || lun > MAX_LUN)) {
      throw AdminException.invalid("lun must be 0.." + MAX_LUN + ", got " + lun);
    }
    lock.lock();
    try {
      String vol = findVolume(Objects.requireNonNull(volume, "volume")).identity().name();
      SiteState s = state.get();
      if (!SiteState.ANY_HOST.equals(host)) {
        findHost(s, host);
      }
      String t =
          target == null
              ? catalog.defaultTarget()
              : Names.targetName(config.targetPrefix(), target);
      if (!catalog.targetNames(s).contains(t)) {
        throw AdminException.notFound("no target '" + t + "'");
      }
      List<SiteState.Mapping> clashing =
          s.mappings().stream()
              .filter(m -> m.target().equals(t))
              .filter(
                  m -> SiteState.ANY_HOST.equals(host) || m.forAnyHost() || m.host().equals(host))
              .toList();
      for (SiteState.Mapping m : clashing) {
        if (m.volume().equals(vol)) {
          throw AdminException.conflict(
              "volume '"
                  + vol
                  + "' is already visible to "
                  + describeHost(host)
                  + " on "
                  + t
                  + " (mapping "
                  + m.id()
                  + ")");
        }
      }
      Set<Integer> used = new HashSet<>();
      clashing.forEach(m -> used.add(m.lun()));
      int chosen;
      if (lun == null) {
        chosen = 0;
        while (chosen <= MAX_LUN && used.contains(chosen)) {
          chosen++;
        }
        if (chosen > MAX_LUN) {
          throw AdminException.conflict("no free LUN left on " + t + " for " + describeHost(host));
        }
      } else {
        if (used.contains(lun)) {
          throw AdminException.conflict(
              "LUN " + lun + " on " + t + " is already in use for " + describeHost(host));
        }
        chosen = lun;
      }
      SiteState.Mapping created =
          new SiteState.Mapping(s.nextMappingId(), vol, host, t, chosen, readOnly);
      update(x -> x.withMappings(append(x.mappings(), created), x.nextMappingId() + 1));
      events.record(
          "mapping.created",
          vol,
          "volume "
              + vol
              + " mapped to "
              + describeHost(host)
              + " on "
              + t
              + " LUN "
              + chosen
              + (readOnly ? " read-only" : ""));
      return created;
    } finally {
      lock.unlock();
    }
  }

  void deleteMapping(long id) throws IOException {
    lock.lock();
    try {
      SiteState.Mapping m = mapping(id);
      update(
          s ->
              s.withMappings(
                  s.mappings().stream().filter(x -> x.id() != id).toList(), s.nextMappingId()));
      events.record(
          "mapping.deleted",
          m.volume(),
          "volume "
              + m.volume()
              + " unmapped from "
              + describeHost(m.host())
              + " on "
              + m.target()
              + " LUN "
              + m.lun());
    } finally {
      lock.unlock();
    }
  }

  private static String describeHost(String host) {
    return SiteState.ANY_HOST.equals(host) ? "every initiator (*)" : "host " + host;
  }

  // ---- targets ----

  List<Views.Target> targets() {
    SiteState s = state.get();
    List<String> addresses = portals().stream().map(Views.Portal::address).toList();
    return catalog.targetNames(s).stream()
        .map(
            t ->
                new Views.Target(
                    t,
                    t.equals(catalog.defaultTarget()),
                    config.portalGroupTag(),
                    addresses,
                    (int) s.mappings().stream().filter(m -> m.target().equals(t)).count()))
        .toList();
  }

  Views.Target target(String name) {
    String t = Names.targetName(config.targetPrefix(), name);
    return targets().stream()
        .filter(v -> v.name().equals(t))
        .findFirst()
        .orElseThrow(() -> AdminException.notFound("no target '" + t + "'"));
  }

  Views.Target createTarget(String name) throws IOException {
    lock.lock();
    try {
      String t = Names.targetName(config.targetPrefix(), name);
      if (catalog.targetNames(state.get()).contains(t)) {
        throw AdminException.conflict("target '" + t + "' exists already");
      }
      update(s -> s.withTargets(append(s.targets(), new SiteState.Target(t))));
      events.record("target.created", t, "target " + t + " created");
      return target(t);
    } finally {
      lock.unlock();
    }
  }

  void deleteTarget(String name, boolean force) throws IOException {
    lock.lock();
    try {
      String t = Names.targetName(config.targetPrefix(), name);
      if (t.equals(catalog.defaultTarget())) {
        throw AdminException.conflict(
            "target '" + t + "' is the site's default target and cannot be deleted");
      }
      if (state.get().targets().stream().noneMatch(x -> x.name().equals(t))) {
        throw AdminException.notFound("no target '" + t + "'");
      }
      List<Long> mapped =
          state.get().mappings().stream()
              .filter(m -> m.target().equals(t))
              .map(SiteState.Mapping::id)
              .toList();
      if (!mapped.isEmpty() && !force) {
        throw AdminException.conflict(
            "target '"
                + t
                + "' has mappings "
                + mapped
                + "; unmap them first or delete with force");
      }
      update(
          s ->
              s.withTargets(s.targets().stream().filter(x -> !x.name().equals(t)).toList())
                  .withMappings(
                      s.mappings().stream().filter(m -> !m.target().equals(t)).toList(),
                      s.nextMappingId()));
      events.record("target.deleted", t, "target " + t + " deleted");
    } finally {
      lock.unlock();
    }
  }

  // ---- portals ----

  /** Opens a portal at start (config or saved state), without touching the saved state. */
  void openAtStart(HostPort requested, boolean fromConfig) throws IOException {
    lock.lock();
    try {
      portals.open(requested, fromConfig);
    } finally {
      lock.unlock();
    }
  }

  List<Views.Portal> portals() {
    return portals.views();
  }

  List<HostPort> boundPortals() {
    return portals.bound();
  }

  Views.Portal addPortal(HostPort requested) throws IOException {
    if (requested.wildcard()) {
      throw AdminException.invalid(
          "wildcard address "
              + requested.host()
              + " cannot be announced to initiators; add each address");
    }
    lock.lock();
    try {
      if (portals.find(requested).isPresent()) {
        throw AdminException.conflict("portal " + requested + " is open already");
      }
      Portals.Open opened;
      try {
        opened = portals.open(requested, false);
      } catch (BindException e) {
        throw AdminException.conflict("cannot listen on " + requested + ": " + e.getMessage());
      } catch (IOException | UncheckedIOException e) {
        throw AdminException.invalid("cannot listen on " + requested + ": " + e.getMessage());
      }
      HostPort hp = opened.bound();
      try {
        // The bound port is saved (not 0) so a restart reopens the same address.
        update(s -> s.withPortals(append(s.portals(), hp.toString())));
      } catch (IOException | RuntimeException e) {
        portals.close(opened);
        throw e;
      }
      events.record("portal.added", hp.toString(), "iSCSI portal " + hp + " opened");
      return opened.view(config.portalGroupTag());
    } finally {
      lock.unlock();
    }
  }

  void removePortal(HostPort address) throws IOException {
    lock.lock();
    try {
      Portals.Open p =
          portals.find(address).orElseThrow(() -> AdminException.notFound("no portal " + address));
      if (p.fromConfig()) {
        throw AdminException.conflict(
            "portal " + p.bound() + " comes from the site's config file; remove it there");
      }
      update(
          s ->
              s.withPortals(
                  s.portals().stream().filter(x -> !x.equals(p.bound().toString())).toList()));
      portals.close(p);
      events.record(
          "portal.removed", p.bound().toString(), "iSCSI portal " + p.bound() + " closed");
    } finally {
      lock.unlock();
    }
  }

  // ---- ALUA ----

  Views.Alua alua() {
    return alua.groups().stream()
        .filter(g -> g.id() == config.portGroupId())
        .findFirst()
        .map(g -> new Views.Alua(g.id(), g.state().name(), g.relativePortIds()))
        .orElseThrow(
            () ->
                new IllegalStateException(
                    "the site's port group " + config.portGroupId() + " is missing"));
  }

  Views.Alua setAlua(AluaState newState) throws IOException {
    lock.lock();
    try {
      // Durable first: after a crash the site comes back in the state it last announced.
      update(s -> s.withAluaState(newState.name()));
      alua.setState(config.portGroupId(), newState);
      events.record(
          "alua.changed",
          Integer.toString(config.portGroupId()),
          "port group " + config.portGroupId() + " is now " + newState.name());
      return alua();
    } finally {
      lock.unlock();
    }
  }

  // ---- sessions ----

  List<Views.Session> sessions() {
    return iscsi.sessions().stream().map(Views.Session::of).toList();
  }

  // ---- helpers ----

  private void update(UnaryOperator<SiteState> change) throws IOException {
    state.update(change);
    catalog.refresh();
  }

  private static <T> List<T> append(List<T> list, T item) {
    List<T> out = new ArrayList<>(list);
    out.add(item);
    return out;
  }
}
