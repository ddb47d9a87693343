package io.duet.iscsi;

import io.duet.scsi.ItNexus;
import io.duet.scsi.LogicalUnit;
import io.duet.scsi.LunMap;
import io.duet.scsi.ScsiResult;
import io.duet.scsi.ScsiTask;
import java.util.Collection;

/**
 * The SCSI layer as one session sees it. In production a thin view of {@link LunMap}; tests use an
 * in-process fake so the transport can be exercised on its own.
 */
interface LunAccess {
  ScsiResult execute(int lun, ScsiTask task);

  /** See {@link LunMap#dataOutLength}: bytes of Data-Out the CDB takes, or -1 when unknown. */
  int dataOutLength(int lun, byte[] cdb);

  /** LOGICAL UNIT RESET; false when no LU is mapped at {@code lun}. */
  boolean reset(int lun, ItNexus by);

  boolean exists(int lun);

  /**
   * Every logical unit the session can address, each once however many LUNs show it, as the same
   * identities {@link #unit} returns (target resets walk them).
   */
  Collection<?> units();

  /** LOGICAL UNIT RESET of one of {@link #units}. */
  void resetUnit(Object unit, ItNexus by);

  /**
   * The logical unit behind {@code lun} as an identity to compare across sessions (the same LU may
   * sit at different LUN numbers for different initiators), or null.
   */
  Object unit(int lun);

  /** A nexus logged in. */
  void attach(ItNexus nexus);

  /** A nexus's session ended (not when it was reinstated: the nexus lives on). */
  void detach(ItNexus nexus);

  /** The production view over the node's live LUN map. */
  static LunAccess of(LunMap map) {
    return new LunAccess() {
      @Override
      public ScsiResult execute(int lun, ScsiTask task) {
        return map.execute(lun, task);
      }

      @Override
      public int dataOutLength(int lun, byte[] cdb) {
        return map.dataOutLength(lun, cdb);
      }

      @Override
      public boolean reset(int lun, ItNexus by) {
        var unit = map.unit(lun);
        if (unit == null) {
          return false;
        }
        unit.reset(by);
        return true;
      }

      @Override
      public boolean exists(int lun) {
        return map.unit(lun) != null;
      }

      @Override
      public Object unit(int lun) {
        return map.unit(lun);
      }

      @Override
      public Collection<?> units() {
        return map.units();
      }

      @Override
      public void resetUnit(Object unit, ItNexus by) {
        if (unit instanceof LogicalUnit lu) {
          lu.reset(by);
        }
      }

      @Override
      public void attach(ItNexus nexus) {
        map.attach(nexus);
      }

      @Override
      public void detach(ItNexus nexus) {
        map.detach(nexus);
      }
    };
  }
}
