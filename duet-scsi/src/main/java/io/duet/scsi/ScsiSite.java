package io.duet.scsi;

import java.util.Optional;

/**
 * Site-wide SCSI context shared by every logical unit of a site: the ALUA target port groups and
 * the directory of logical units by NAA designator (EXTENDED COPY resolves its copy targets
 * there). Thread-safe.
 *
 * <p>CONTRACT SKELETON — the implementation replaces these bodies.
 */
public final class ScsiSite {
  public ScsiSite(AluaGroups alua) {
    throw new UnsupportedOperationException("skeleton");
  }

  public AluaGroups alua() {
    throw new UnsupportedOperationException("skeleton");
  }

  /** Called by LogicalUnit's constructor. */
  void register(LogicalUnit unit) {
    throw new UnsupportedOperationException("skeleton");
  }

  /** The node calls this when a volume is deleted. */
  public void unregister(LogicalUnit unit) {
    throw new UnsupportedOperationException("skeleton");
  }

  Optional<LogicalUnit> byNaa(byte[] naa) {
    throw new UnsupportedOperationException("skeleton");
  }
}
