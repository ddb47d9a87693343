package io.duet.scsi;

import java.util.Arrays;
import java.util.Optional;

/**
 * The logical units one EXTENDED COPY may name as copy targets: exactly those its I_T nexus can
 * address through LUN masking, each with that nexus's access (read-only or not). Without this scope
 * a host could read or overwrite any LU of the site by naming its NAA.
 */
@FunctionalInterface
interface ExtendedCopyTargets {

  /** The LU with this NAA designator as the issuing nexus sees it, or empty if it cannot. */
  Optional<LunMap.Binding> byNaa(byte[] naa);

  /** A scope holding only {@code unit}, for commands that did not come through a LunMap. */
  static ExtendedCopyTargets only(LogicalUnit unit, boolean readOnly) {
    LunMap.Binding self = new LunMap.Binding(unit, readOnly);
    return naa -> Arrays.equals(naa, unit.naa()) ? Optional.of(self) : Optional.empty();
  }
}
