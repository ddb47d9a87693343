package io.duet.scsi;

import io.duet.store.Volume;

/**
 * A SCSI logical unit (SBC-3 direct-access block device) over one {@link Volume}: decodes CDBs,
 * enforces ALUA and persistent reservations, keeps unit attentions per I_T nexus.
 * Thread-safe; commands run concurrently on the transport's virtual threads.
 *
 * <p>CONTRACT SKELETON — the implementation replaces these bodies.
 */
public final class LogicalUnit {

  /**
   * @param volume the backing volume
   * @param site the site's SCSI context: ALUA port groups, the LU directory EXTENDED COPY uses
   * @param persistence where PR state with APTPL is kept across restarts
   */
  public LogicalUnit(Volume volume, ScsiSite site, PersistentState persistence) {
    throw new UnsupportedOperationException("skeleton");
  }

  /** Runs one command to completion. Never throws for bad input: it returns CHECK CONDITION. */
  public ScsiResult execute(ScsiTask task) {
    throw new UnsupportedOperationException("skeleton");
  }

  /**
   * How many Data-Out bytes this CDB transfers (0 for commands without Data-Out), so the transport
   * knows how much to solicit; -1 when the CDB is malformed or unknown (the transport then still
   * calls {@link #execute}, which answers the proper CHECK CONDITION).
   */
  public int dataOutLength(byte[] cdb) {
    throw new UnsupportedOperationException("skeleton");
  }

  /** LOGICAL UNIT RESET from {@code by}: clears SPC-2 reservations, UA 29/03 on every nexus. */
  public void reset(ItNexus by) {
    throw new UnsupportedOperationException("skeleton");
  }

  /** A new I_T nexus (login): it gets UA 29/01 POWER ON OCCURRED... once, per SPC-4. */
  public void nexusAttached(ItNexus nexus) {
    throw new UnsupportedOperationException("skeleton");
  }

  /** The volume's capacity changed: UA 2A/09 CAPACITY DATA HAS CHANGED on every nexus. */
  public void capacityChanged() {
    throw new UnsupportedOperationException("skeleton");
  }

  public Volume volume() {
    throw new UnsupportedOperationException("skeleton");
  }
}
