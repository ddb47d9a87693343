package io.duet.scsi;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Site-wide SCSI context shared by every logical unit of a site: the ALUA target port groups, whose
 * state changes reach every registered LU as a unit attention. (EXTENDED COPY does not look LUs up
 * here: it may only reach what the issuing host's {@link LunMap} shows it.) Thread-safe.
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

  private void aluaChanged() {
    for (LogicalUnit u : units) {
      u.aluaChanged();
    }
  }
}
