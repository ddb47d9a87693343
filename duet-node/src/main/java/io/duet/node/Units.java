package io.duet.node;

import io.duet.scsi.LogicalUnit;
import io.duet.scsi.ScsiSite;
import io.duet.store.LocalVolume;
import io.duet.store.VolumeStore;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One SCSI logical unit per volume of the store, by volume name. All of them share the site's
 * {@link ScsiSite}, so ALUA changes and EXTENDED COPY see every unit.
 */
final class Units {
  /** The file in a volume's state directory that keeps its persistent reservations. */
  static final String PR_FILE = "pr";

  private final VolumeStore store;
  private final ScsiSite site;
  private final ConcurrentHashMap<String, LogicalUnit> byName = new ConcurrentHashMap<>();

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
    Path pr = store.stateDirectory(volume.identity()).resolve(PR_FILE);
    LogicalUnit unit = new LogicalUnit(volume, site, new FilePersistentState(pr));
    byName.put(volume.identity().name(), unit);
    return unit;
  }

  Optional<LogicalUnit> get(String volumeName) {
    return Optional.ofNullable(byName.get(volumeName));
  }

  /** Forgets a unit (its volume is being deleted) and takes it out of the site directory. */
  void remove(String volumeName) {
    LogicalUnit unit = byName.remove(volumeName);
    if (unit != null) {
      site.unregister(unit);
    }
  }
}
