package io.duet.node;

import io.duet.scsi.LogicalUnit;
import io.duet.scsi.ScsiSite;
import io.duet.scsi.UnitAlua;
import io.duet.store.LocalVolume;
import io.duet.store.Volume;
import io.duet.store.VolumeStore;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One SCSI logical unit per volume of the store, by volume name. All of them share the site's
 * {@link ScsiSite}, so ALUA changes and EXTENDED COPY see every unit. A volume of a consistency
 * group is served through its replicated volume ({@link #serve}) with the group's two-site ALUA
 * view; every other volume through the store's local volume.
 */
final class Units {
  /** The file in a volume's state directory that keeps its persistent reservations. */
  static final String PR_FILE = "pr";

  private final VolumeStore store;
  private final ScsiSite site;
  private final ConcurrentHashMap<String, LogicalUnit> byName = new ConcurrentHashMap<>();
  /** Volumes served through something else than the local volume (replicated ones). */
  private final Map<String, Volume> served = new ConcurrentHashMap<>();

  Units(VolumeStore store, ScsiSite site) {
    this.store = store;
    this.site = site;
  }

  /** Builds the unit of every volume already in the store (node start). */
  void loadAll() {
    for (LocalVolume v : store.list()) {
      add(v);
    }
  }

  LogicalUnit add(LocalVolume volume) {
    return build(volume.identity().name(), served.getOrDefault(volume.identity().name(), volume));
  }

  private synchronized LogicalUnit build(String name, Volume volume) {
    Path pr = store.stateDirectory(volume.identity()).resolve(PR_FILE);
    LogicalUnit unit = new LogicalUnit(volume, site, new FilePersistentState(pr));
    LogicalUnit old = byName.put(name, unit);
    if (old != null) {
      site.unregister(old);
      unit.useAlua(old.alua());
    }
    return unit;
  }

  /**
   * Serves {@code name} through {@code volume} from now on (null: the local volume again). The unit
   * is rebuilt over it, keeping its ALUA view; persistent reservations reload from their file. The
   * caller refreshes the LUN maps so sessions reach the new unit.
   */
  void serve(String name, Volume volume) {
    if (volume == null) {
      served.remove(name);
    } else {
      served.put(name, volume);
    }
    Optional<LocalVolume> local = store.get(name);
    if (local.isPresent()) {
      build(name, volume == null ? local.get() : volume);
    }
  }

  /** The volume hosts reach for {@code name}: the replicated one in a group, else the local one. */
  Optional<Volume> served(String name) {
    Volume v = served.get(name);
    return v != null ? Optional.of(v) : store.get(name).map(Volume.class::cast);
  }

  /** Gives the unit of {@code name} a two-site ALUA view (null: the site's groups again). */
  void useAlua(String name, UnitAlua view) {
    LogicalUnit u = byName.get(name);
    if (u != null) {
      u.useAlua(view);
    }
  }

  Optional<LogicalUnit> get(String volumeName) {
    return Optional.ofNullable(byName.get(volumeName));
  }

  /** Forgets a unit (its volume is being deleted) and takes it out of the site directory. */
  void remove(String volumeName) {
    LogicalUnit unit = byName.remove(volumeName);
    served.remove(volumeName);
    if (unit != null) {
      site.unregister(unit);
    }
  }
}
