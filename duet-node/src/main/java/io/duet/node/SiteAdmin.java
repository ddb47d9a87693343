package io.duet.node;

import io.duet.iscsi.IscsiServer;
import io.duet.node.config.HostPort;
import io.duet.node.config.SiteConfig;
import io.duet.scsi.AluaGroups;
import io.duet.scsi.AluaState;
import io.duet.store.LocalVolume;
import io.duet.store.VolumeStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
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

  /** A portal this site has open: where it was asked to listen, where it is bound, and why. */
  record OpenPortal(HostPort bound, InetSocketAddress socket, boolean fromConfig) {}

  private final SiteConfig config;
  private final StateStore state;
  private final VolumeStore store;
  private final Units units;
  private final Catalog catalog;
  private final IscsiServer iscsi;
  private final AluaGroups alua;
  private final EventLog events;
  private final ReentrantLock lock = new ReentrantLock();
  private final List<OpenPortal> portals = new ArrayList<>();

  SiteAdmin(
      SiteConfig config,
      StateStore state,
      VolumeStore store,
      Units units,
      Catalog catalog,
      IscsiServer iscsi,
      AluaGroups alua,
      EventLog events) {
    this.config = config;
    this.state = state;
    this.store = store;
    this.units = units;
    this.catalog = catalog;
    this.iscsi = iscsi;
    this.alua = alua;
    this.events = events;
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
      List<Long> mapped = mappingIds(state.get(), canonical);
      if (!mapped.isEmpty() && !force) {
        throw AdminException.conflict(
            "volume '"
                + canonical
                + "' is mapped (mapping ids "
                + mapped
                + "); unmap it first or delete with force");
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
      SiteState.Host valid = validHost(host);
      if (state.get().host(valid.name()).isPresent()) {
        throw AdminException.conflict("host '" + valid.name() + "' exists already");
      }
      checkIqnsFree(valid, null);
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
      SiteState.Host valid = validHost(host);
      if (!valid.name().equals(name)) {
        throw AdminException.invalid("a host cannot be renamed");
      }
      checkIqnsFree(valid, name);
      update(
          s ->
              s.withHosts(s.hosts().stream().map(h -> h.name().equals(name) ? valid : h).toList()));
      events.record("host.updated", name, "host " + name + " updated");
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
    } finally {
      lock.unlock();
    }
  }

  private static SiteState.Host findHost(SiteState s, String name) {
    return s.host(name).orElseThrow(() -> AdminException.notFound("no host '" + name + "'"));
  }

  private static SiteState.Host validHost(SiteState.Host h) {
    String name = Names.hostName(h.name());
    if (h.iqns().isEmpty()) {
      throw AdminException.invalid("host '" + name + "' needs at least one initiator name (iqns)");
    }
    Set<String> seen = new HashSet<>();
    List<String> iqns = new ArrayList<>();
    for (String iqn : h.iqns()) {
      String lower = Names.iscsiName("iqn", iqn);
      if (!seen.add(lower)) {
        throw AdminException.invalid("initiator " + lower + " is listed twice");
      }
      iqns.add(lower);
    }
    String chapUser = h.chapUser();
    String chapSecret = h.chapSecret();
    if ((chapUser == null) != (chapSecret == null)) {
      throw AdminException.invalid("chapUser and chapSecret go together: give both or neither");
    }
    if (chapUser != null) {
      Names.chapUser("chapUser", chapUser);
      Names.chapSecret("chapSecret", chapSecret);
    }
    if ((h.mutualUser() == null) != (h.mutualSecret() == null)) {
      throw AdminException.invalid("mutualUser and mutualSecret go together: give both or neither");
    }
    if (h.mutualUser() != null) {
      if (chapUser == null) {
        throw AdminException.invalid(
            "mutual CHAP needs one-way CHAP (chapUser, chapSecret) as well");
      }
      Names.chapUser("mutualUser", h.mutualUser());
      Names.chapSecret("mutualSecret", h.mutualSecret());
      if (h.mutualSecret().equals(chapSecret)) {
        // RFC 7143 12.1.3: the two directions must not share a secret.
        throw AdminException.invalid("mutualSecret must differ from chapSecret");
      }
    }
    return new SiteState.Host(name, iqns, chapUser, chapSecret, h.mutualUser(), h.mutualSecret());
  }

  private void checkIqnsFree(SiteState.Host host, String exceptHost) {
    for (SiteState.Host other : state.get().hosts()) {
      if (other.name().equals(exceptHost)) {
        continue;
      }
      for (String iqn : host.iqns()) {
        if (other.hasIqn(iqn)) {
          throw AdminException.conflict(
              "initiator " + iqn + " belongs to host '" + other.name() + "' already");
        }
      }
    }
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
  OpenPortal openAtStart(HostPort requested, boolean fromConfig) throws IOException {
    lock.lock();
    try {
      InetSocketAddress bound = iscsi.listen(requested.toSocketAddress(), config.portalGroupTag());
      OpenPortal p = new OpenPortal(HostPort.of(bound), bound, fromConfig);
      portals.add(p);
      catalog.portals(portals.stream().map(OpenPortal::bound).toList());
      return p;
    } finally {
      lock.unlock();
    }
  }

  List<Views.Portal> portals() {
    lock.lock();
    try {
      return portals.stream()
          .map(
              p ->
                  new Views.Portal(
                      p.bound().toString(),
                      config.portalGroupTag(),
                      p.fromConfig() ? "config" : "api"))
          .toList();
    } finally {
      lock.unlock();
    }
  }

  List<HostPort> boundPortals() {
    lock.lock();
    try {
      return portals.stream().map(OpenPortal::bound).toList();
    } finally {
      lock.unlock();
    }
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
      if (findPortal(requested).isPresent()) {
        throw AdminException.conflict("portal " + requested + " is open already");
      }
      InetSocketAddress bound;
      try {
        bound = iscsi.listen(requested.toSocketAddress(), config.portalGroupTag());
      } catch (BindException e) {
        throw AdminException.conflict("cannot listen on " + requested + ": " + e.getMessage());
      } catch (IOException | UncheckedIOException e) {
        throw AdminException.invalid("cannot listen on " + requested + ": " + e.getMessage());
      }
      HostPort hp = HostPort.of(bound);
      try {
        // The bound port is saved (not 0) so a restart reopens the same address.
        update(s -> s.withPortals(append(s.portals(), hp.toString())));
      } catch (IOException | RuntimeException e) {
        iscsi.closePortal(bound);
        throw e;
      }
      portals.add(new OpenPortal(hp, bound, false));
      catalog.portals(portals.stream().map(OpenPortal::bound).toList());
      events.record("portal.added", hp.toString(), "iSCSI portal " + hp + " opened");
      return new Views.Portal(hp.toString(), config.portalGroupTag(), "api");
    } finally {
      lock.unlock();
    }
  }

  void removePortal(HostPort address) throws IOException {
    lock.lock();
    try {
      OpenPortal p =
          findPortal(address).orElseThrow(() -> AdminException.notFound("no portal " + address));
      if (p.fromConfig()) {
        throw AdminException.conflict(
            "portal " + p.bound() + " comes from the site's config file; remove it there");
      }
      update(
          s ->
              s.withPortals(
                  s.portals().stream().filter(x -> !x.equals(p.bound().toString())).toList()));
      portals.remove(p);
      catalog.portals(portals.stream().map(OpenPortal::bound).toList());
      iscsi.closePortal(p.socket());
      events.record(
          "portal.removed", p.bound().toString(), "iSCSI portal " + p.bound() + " closed");
    } finally {
      lock.unlock();
    }
  }

  private Optional<OpenPortal> findPortal(HostPort address) {
    return portals.stream()
        .filter(p -> p.bound().equals(address) || (address.port() != 0 && sameAddress(p, address)))
        .findFirst();
  }

  private static boolean sameAddress(OpenPortal p, HostPort address) {
    InetSocketAddress a = address.toSocketAddress();
    return !a.isUnresolved() && a.equals(p.socket());
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
