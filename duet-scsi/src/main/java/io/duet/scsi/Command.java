package io.duet.scsi;

import java.util.HexFormat;

/**
 * One command Duet implements: opcode, service action, CDB length and the CDB usage mask that
 * REPORT SUPPORTED OPERATION CODES reports and that the dispatcher enforces (a bit set in the CDB
 * but clear in the mask is a reserved or unsupported field: 05/24/00 pointing at it).
 *
 * @param opcode operation code
 * @param serviceAction service action, or -1 when the opcode has none
 * @param usage CDB usage data; its length is the CDB length
 * @param access which ALUA states may run it
 * @param flags bit set of {@link #WRITE}, {@link #UA_EXEMPT}, {@link #DELEGATED}
 */
record Command(int opcode, int serviceAction, byte[] usage, Access access, int flags) {

  /** Modifies the medium: refused on read-only mappings with 07/27/00. */
  static final int WRITE = 1;

  /** Neither reports nor clears a pending unit attention (INQUIRY, REPORT LUNS, REQUEST SENSE). */
  static final int UA_EXEMPT = 2;

  /** Decoded by the PR/XCOPY code, which checks its own CDB fields. */
  static final int DELEGATED = 4;

  /** The ALUA states (SPC-4 5.16.2.4) in which a command may run. */
  enum Access {
    /** Also in transitioning and unavailable states. */
    ANY_STATE,
    /** Active and standby states. */
    STANDBY,
    /** Active states only. */
    ACTIVE
  }

  Command {
    usage = usage.clone();
  }

  static Command of(String usageHex, Access access, int flags, boolean hasServiceAction) {
    byte[] usage = HexFormat.of().parseHex(usageHex.replace(" ", ""));
    int sa = hasServiceAction ? usage[1] & 0x1f : -1;
    return new Command(usage[0] & 0xff, sa, usage, access, flags);
  }

  int cdbLength() {
    return usage.length;
  }

  boolean is(int flag) {
    return (flags & flag) != 0;
  }

  /** The usage byte at {@code index}; the dispatcher's reserved-bit check reads it in place. */
  int usageByte(int index) {
    return usage[index] & 0xff;
  }

  /** A copy, so the table stays immutable. */
  @Override
  public byte[] usage() {
    return usage.clone();
  }

  /** A copy for REPORT SUPPORTED OPERATION CODES. */
  byte[] usageData() {
    return usage.clone();
  }
}
