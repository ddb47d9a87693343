package io.duet.scsi;

/**
 * Which commands a reservation blocks: SPC-4's table of SPC commands allowed in the presence of
 * persistent reservations, SBC-3's table for block commands, and SPC-2's RESERVE/RELEASE rules.
 * Commands fall into three classes; the reservation type then decides per I_T nexus.
 */
final class ReservationConflicts {

  /** How a command behaves toward reservations it does not hold. */
  enum Access {
    /** Allowed whatever the reservation (INQUIRY, REPORT LUNS, PR IN/OUT, ...). */
    ALWAYS,
    /** Like a read: passes Write Exclusive types, blocked by Exclusive Access types. */
    READ,
    /** Like a write: blocked unless the type gives registrants access and the nexus is one. */
    WRITE
  }

  private ReservationConflicts() {}

  /** Classifies a CDB; unknown opcodes count as writes so a reservation never leaks. */
  static Access classify(byte[] cdb) {
    if (cdb.length == 0) {
      return Access.WRITE;
    }
    int op = cdb[0] & 0xff;
    int sa = cdb.length > 1 ? cdb[1] & 0x1f : 0;
    return switch (op) {
      case 0x00, // TEST UNIT READY (ALLOW COMMANDS 010b)
          0x03, // REQUEST SENSE
          0x12, // INQUIRY
          0x25, // READ CAPACITY (10)
          0x4d, // LOG SENSE
          0x5e, // PERSISTENT RESERVE IN
          0x5f, // PERSISTENT RESERVE OUT: the service action decides (ReservationLogic)
          0x16,
          0x56, // RESERVE (6/10): PersistentReservations.reserve decides
          0x17,
          0x57, // RELEASE (6/10): PersistentReservations.release decides
          0xa0, // REPORT LUNS
          0xa3 -> // MAINTENANCE IN: RTPG, REPORT SUPPORTED OPCODES / TMFs
          Access.ALWAYS;
      case 0x9e -> sa == 0x10 ? Access.ALWAYS : Access.READ; // READ CAPACITY (16); GET LBA STATUS
      case 0x08,
          0x28,
          0xa8,
          0x88, // READ 6/10/12/16
          0x2f,
          0xaf,
          0x8f, // VERIFY 10/12/16
          0x34,
          0x90, // PRE-FETCH 10/16
          0x1a,
          0x5a, // MODE SENSE 6/10
          0x3c, // READ BUFFER
          0x1c, // RECEIVE DIAGNOSTIC RESULTS
          0x37,
          0xb7, // READ DEFECT DATA
          0x84 -> // RECEIVE COPY RESULTS
          Access.READ;
      default -> Access.WRITE; // writes, WRITE SAME, UNMAP, CAW, SYNC CACHE, MODE SELECT, XCOPY ...
    };
  }

  /** Whether a persistent reservation in {@code s} blocks this command from {@code nexus}. */
  static boolean persistentConflict(ReservationState s, ItNexus nexus, byte[] cdb) {
    ReservationState.Held held = s.reservation();
    if (held == null || s.isHolder(nexus)) {
      return false;
    }
    Access access = classify(cdb);
    if (access == Access.ALWAYS) {
      return false;
    }
    if (held.type().registrantsHaveAccess() && s.registrationFor(nexus) != null) {
      return false;
    }
    return access == Access.WRITE || held.type().exclusiveAccess();
  }

  /**
   * Whether an SPC-2 reservation held by another I_T nexus blocks this command. SPC-2 lets only a
   * handful of commands through; RELEASE is among them and does nothing.
   */
  static boolean legacyConflict(byte[] cdb) {
    if (cdb.length == 0) {
      return true;
    }
    return switch (cdb[0] & 0xff) {
      case 0x03, 0x12, 0x4d, 0xa0, 0xa3, 0x17, 0x57, 0x16, 0x56 -> false;
      default -> true;
    };
  }
}
