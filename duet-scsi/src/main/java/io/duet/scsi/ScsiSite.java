package io.duet.scsi;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Site-wide SCSI context shared by every logical unit of a site: the ALUA target port groups and
 * the directory of logical units by NAA designator (EXTENDED COPY resolves its copy targets there).
 * Thread-safe.
 */
public final class ScsiSite {
  private final AluaGroups alua;
  private final List<LogicalUnit> units = new CopyOnWriteArrayList<>();

  public ScsiSite(AluaGroups alua) {
    this.alua = Objects.requireNonNull(alua, "alua");
    alua.addListener(this::aluaChanged);
  }

  public AluaGroups alua() {
    return alua;
  }

  /** Called by LogicalUnit's constructor. */
  void register(LogicalUnit unit) {
    units.add(Objects.requireNonNull(unit, "unit"));
  }

  /** The node calls this when a volume is deleted. */
  public void unregister(LogicalUnit unit) {
    units.remove(unit);
  }

  Optional<LogicalUnit> byNaa(byte[] naa) {
    for (LogicalUnit u : units) {
      if (Arrays.equals(u.naa(), naa)) {
        return Optional.of(u);
      }
    }
    return Optional.empty();
  }

  private void aluaChanged() {
    for (LogicalUnit u : units) {
      u.aluaChanged();
    }
  }
}
