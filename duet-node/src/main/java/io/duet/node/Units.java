package io.duet.node;

import io.duet.scsi.LogicalUnit;
import io.duet.scsi.ScsiSite;
import io.duet.scsi.SharedUnitState;
import io.duet.scsi.UnitAlua;
import io.duet.store.LocalVolume;
import io.duet.store.Volume;
import io.duet.store.VolumeStore;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One SCSI logical unit per volume of the store, by volume name. All of them share the site's
 * {@link ScsiSite}, so ALUA changes and EXTENDED COPY see every unit. Each unit (and each NBD
 * export) reaches its volume through a {@link ServedVolume}, so a volume that joins a consistency
 * group switches to its replicated volume in place: sessions, reservations and unit attentions
 * carry on.
 */
final class Units {
  /** The file in a volume's state directory that keeps its persistent reservations. */
  static final String PR_FILE = "pr";

  private final VolumeStore store;
  private final ScsiSite site;
  private final ConcurrentHashMap<String, LogicalUnit> byName = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, ServedVolume> served = new ConcurrentHashMap<>();

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
    String name = volume.identity().name();
    ServedVolume s = new ServedVolume(volume);
    Path pr = store.stateDirectory(volume.identity()).resolve(PR_FILE);
    LogicalUnit unit = new LogicalUnit(s, site, new FilePersistentState(pr));
    served.put(name, s);
    LogicalUnit old = byName.put(name, unit);
    if (old != null) {
      site.unregister(old);
    }
    return unit;
  }

  /** Serves {@code name} through {@code volume} from now on (null: the local volume again). */
  void serve(String name, Volume volume) {
    ServedVolume s = served.get(name);
    if (s != null) {
      s.serve(volume);
    }
  }

  /** The volume hosts reach for {@code name} (NBD exports use it too). */
  Optional<Volume> served(String name) {
    return Optional.ofNullable(served.get(name));
  }

  /** Gives the unit of {@code name} a two-site ALUA view (null: the site's groups again). */
  void useAlua(String name, UnitAlua view) {
    get(name).ifPresent(u -> u.useAlua(view));
  }

  /** Sends the unit's shared-state changes through its group (null: applied here alone). */
  void useSharedState(String name, SharedUnitState via) {
    get(name).ifPresent(u -> u.useSharedState(via));
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
