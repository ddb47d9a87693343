package io.duet.scsi;

import static io.duet.scsi.Command.Access.ACTIVE;
import static io.duet.scsi.Command.Access.ANY_STATE;
import static io.duet.scsi.Command.Access.STANDBY;
import static io.duet.scsi.Command.DELEGATED;
import static io.duet.scsi.Command.UA_EXEMPT;
import static io.duet.scsi.Command.WRITE;

import java.util.List;

/**
 * The commands Duet's logical unit implements (SPC-4, SBC-3), looked up by CDB without allocating.
 * The usage masks deliberately include bits Duet accepts but ignores (DPO, FUA_NV, group number,
 * IMMED) and exclude protection-information fields, ANCHOR and NACA.
 */
final class CommandTable {
  /** Opcodes whose second byte carries a service action. */
  private static final boolean[] HAS_SERVICE_ACTION = new boolean[256];

  private static final Command[] BY_OPCODE = new Command[256];
  private static final List<Command> ALL;

  static {
    for (int op : new int[] {0x5e, 0x5f, 0x83, 0x84, 0x9e, 0xa3, 0xa4}) {
      HAS_SERVICE_ACTION[op] = true;
    }
    ALL =
        List.of(
            plain("00 00 00 00 00 00", ACTIVE, 0), // TEST UNIT READY
            plain("03 01 00 00 ff 00", ANY_STATE, UA_EXEMPT), // REQUEST SENSE
            plain("08 1f ff ff ff 00", ACTIVE, 0), // READ(6)
            plain("0a 1f ff ff ff 00", ACTIVE, WRITE), // WRITE(6)
            plain("12 01 ff ff ff 00", ANY_STATE, UA_EXEMPT), // INQUIRY
            plain("15 10 00 00 ff 00", STANDBY, 0), // MODE SELECT(6)
            plain("16 00 00 00 00 00", STANDBY, DELEGATED), // RESERVE(6)
            plain("17 00 00 00 00 00", STANDBY, DELEGATED), // RELEASE(6)
            plain("1a 08 ff ff ff 00", STANDBY, 0), // MODE SENSE(6)
            plain("1b 01 00 0f f7 00", ACTIVE, 0), // START STOP UNIT
            plain("1e 00 00 00 03 00", ACTIVE, 0), // PREVENT ALLOW MEDIUM REMOVAL
            plain("25 00 00 00 00 00 00 00 00 00", ACTIVE, 0), // READ CAPACITY(10)
            plain("28 1e ff ff ff ff 1f ff ff 00", ACTIVE, 0), // READ(10)
            plain("2a 1a ff ff ff ff 1f ff ff 00", ACTIVE, WRITE), // WRITE(10)
            plain("2e 12 ff ff ff ff 1f ff ff 00", ACTIVE, WRITE), // WRITE AND VERIFY(10)
            plain("2f 16 ff ff ff ff 1f ff ff 00", ACTIVE, 0), // VERIFY(10)
            plain("34 02 ff ff ff ff 1f ff ff 00", ACTIVE, 0), // PRE-FETCH(10)
            plain("35 06 ff ff ff ff 1f ff ff 00", ACTIVE, 0), // SYNCHRONIZE CACHE(10)
            plain("37 00 1f 00 00 00 00 ff ff 00", ACTIVE, 0), // READ DEFECT DATA(10)
            plain("41 08 ff ff ff ff 1f ff ff 00", ACTIVE, WRITE), // WRITE SAME(10)
            plain("42 00 00 00 00 00 1f ff ff 00", ACTIVE, WRITE), // UNMAP
            plain("55 10 00 00 00 00 00 ff ff 00", STANDBY, 0), // MODE SELECT(10)
            plain("56 00 00 00 00 00 00 00 00 00", STANDBY, DELEGATED), // RESERVE(10)
            plain("57 00 00 00 00 00 00 00 00 00", STANDBY, DELEGATED), // RELEASE(10)
            plain("5a 18 ff ff 00 00 00 ff ff 00", STANDBY, 0), // MODE SENSE(10)
            sa("5e 00 00 00 00 00 00 ff ff 00", STANDBY, DELEGATED), // PR IN: READ KEYS
            sa("5e 01 00 00 00 00 00 ff ff 00", STANDBY, DELEGATED), // READ RESERVATION
            sa("5e 02 00 00 00 00 00 ff ff 00", STANDBY, DELEGATED), // REPORT CAPABILITIES
            sa("5e 03 00 00 00 00 00 ff ff 00", STANDBY, DELEGATED), // READ FULL STATUS
            sa("5f 00 ff 00 00 ff ff ff ff 00", STANDBY, DELEGATED), // PR OUT: REGISTER
            sa("5f 01 ff 00 00 ff ff ff ff 00", STANDBY, DELEGATED), // RESERVE
            sa("5f 02 ff 00 00 ff ff ff ff 00", STANDBY, DELEGATED), // RELEASE
            sa("5f 03 ff 00 00 ff ff ff ff 00", STANDBY, DELEGATED), // CLEAR
            sa("5f 04 ff 00 00 ff ff ff ff 00", STANDBY, DELEGATED), // PREEMPT
            sa("5f 05 ff 00 00 ff ff ff ff 00", STANDBY, DELEGATED), // PREEMPT AND ABORT
            sa("5f 06 ff 00 00 ff ff ff ff 00", STANDBY, DELEGATED), // REGISTER AND IGNORE
            sa("5f 07 ff 00 00 ff ff ff ff 00", STANDBY, DELEGATED), // REGISTER AND MOVE
            sa("83 00 00 00 00 00 00 00 00 00 ff ff ff ff 00 00", ACTIVE, DELEGATED), // XCOPY(LID1)
            sa("84 00 ff 00 00 00 00 00 00 00 ff ff ff ff 00 00", ACTIVE, DELEGATED), // COPY STATUS
            sa("84 03 00 00 00 00 00 00 00 00 ff ff ff ff 00 00", ACTIVE, DELEGATED), // OP PARAMS
            sa(
                "84 04 ff 00 00 00 00 00 00 00 ff ff ff ff 00 00",
                ACTIVE,
                DELEGATED), // FAILED SEGMENT
            plain("88 1e ff ff ff ff ff ff ff ff ff ff ff ff 1f 00", ACTIVE, 0), // READ(16)
            plain("89 1a ff ff ff ff ff ff ff ff 00 00 00 ff 1f 00", ACTIVE, WRITE), // CAW
            plain("8a 1a ff ff ff ff ff ff ff ff ff ff ff ff 1f 00", ACTIVE, WRITE), // WRITE(16)
            plain("8b 1a ff ff ff ff ff ff ff ff ff ff ff ff 1f 00", ACTIVE, WRITE), // ORWRITE(16)
            plain("8e 12 ff ff ff ff ff ff ff ff ff ff ff ff 1f 00", ACTIVE, WRITE), // W&V(16)
            plain("8f 16 ff ff ff ff ff ff ff ff ff ff ff ff 1f 00", ACTIVE, 0), // VERIFY(16)
            plain("90 02 ff ff ff ff ff ff ff ff ff ff ff ff 1f 00", ACTIVE, 0), // PRE-FETCH(16)
            plain("91 06 ff ff ff ff ff ff ff ff ff ff ff ff 1f 00", ACTIVE, 0), // SYNC CACHE(16)
            plain(
                "93 09 ff ff ff ff ff ff ff ff ff ff ff ff 1f 00", ACTIVE, WRITE), // WRITE SAME(16)
            // WRITE ATOMIC(16): no WRPROTECT (no protection information), ATOMIC BOUNDARY 0
            plain("9c 18 ff ff ff ff ff ff ff ff 00 00 ff ff 1f 00", ACTIVE, WRITE),
            sa("9e 10 00 00 00 00 00 00 00 00 ff ff ff ff 00 00", ACTIVE, 0), // READ CAPACITY(16)
            sa("9e 12 ff ff ff ff ff ff ff ff ff ff ff ff 00 00", ACTIVE, 0), // GET LBA STATUS
            plain("a0 00 ff 00 00 00 ff ff ff ff 00 00", ANY_STATE, UA_EXEMPT), // REPORT LUNS
            sa("a3 2a 00 00 00 00 ff ff ff ff 00 00", ANY_STATE, 0), // REPORT TARGET PORT GROUPS
            sa("a3 0c 87 ff ff ff ff ff ff ff 00 00", ANY_STATE, 0), // REPORT SUPPORTED OPCODES
            sa("a3 0d 80 00 00 00 ff ff ff ff 00 00", ANY_STATE, 0), // REPORT SUPPORTED TMFS
            plain("a8 1e ff ff ff ff ff ff ff ff 1f 00", ACTIVE, 0), // READ(12)
            plain("aa 1a ff ff ff ff ff ff ff ff 1f 00", ACTIVE, WRITE), // WRITE(12)
            plain("ae 12 ff ff ff ff ff ff ff ff 1f 00", ACTIVE, WRITE), // WRITE AND VERIFY(12)
            plain("af 16 ff ff ff ff ff ff ff ff 1f 00", ACTIVE, 0), // VERIFY(12)
            plain("b7 1f 00 00 00 00 ff ff ff ff 00 00", ACTIVE, 0)); // READ DEFECT DATA(12)
    for (Command c : ALL) {
      if (c.serviceAction() < 0) {
        BY_OPCODE[c.opcode()] = c;
      }
    }
  }

  private CommandTable() {}

  private static Command plain(String usage, Command.Access access, int flags) {
    return Command.of(usage, access, flags, false);
  }

  private static Command sa(String usage, Command.Access access, int flags) {
    return Command.of(usage, access, flags, true);
  }

  static boolean hasServiceAction(int opcode) {
    return HAS_SERVICE_ACTION[opcode & 0xff];
  }

  /** The command for this CDB, or null when Duet does not implement it. */
  static Command lookup(byte[] cdb) {
    if (cdb.length == 0) {
      return null;
    }
    int op = cdb[0] & 0xff;
    if (!HAS_SERVICE_ACTION[op]) {
      return BY_OPCODE[op];
    }
    return cdb.length < 2 ? null : lookup(op, cdb[1] & 0x1f);
  }

  /** The command with this opcode and service action (ignored for opcodes without one). */
  static Command lookup(int opcode, int serviceAction) {
    if (!HAS_SERVICE_ACTION[opcode & 0xff]) {
      return BY_OPCODE[opcode & 0xff];
    }
    for (int i = 0; i < ALL.size(); i++) {
      Command c = ALL.get(i);
      if (c.opcode() == opcode && c.serviceAction() == serviceAction) {
        return c;
      }
    }
    return null;
  }

  /** Every command, in opcode order, for REPORT SUPPORTED OPERATION CODES. */
  static List<Command> all() {
    return ALL;
  }
}
