package io.duet.scsi;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * REPORT SUPPORTED OPERATION CODES (SPC-4 6.35) from {@link CommandTable}, with the command
 * timeouts descriptor when RCTD is set, and REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS (6.36).
 */
final class SupportedOperations {
  /** Nominal and recommended command timeouts reported with RCTD, in seconds. */
  private static final int NOMINAL_TIMEOUT_SECONDS = 1;

  private static final int RECOMMENDED_TIMEOUT_SECONDS = 30;
  private static final int TIMEOUTS_DESCRIPTOR_BYTES = 12;

  private SupportedOperations() {}

  static ScsiResult opcodes(byte[] cdb) {
    boolean rctd = (cdb[2] & 0x80) != 0;
    int options = cdb[2] & 0x07;
    int opcode = BigEndian.u8(cdb, 3);
    int serviceAction = BigEndian.u16(cdb, 4);
    long alloc = BigEndian.u32(cdb, 6);
    byte[] d;
    switch (options) {
      case 0 -> d = all(rctd);
      case 1 -> {
        if (CommandTable.hasServiceAction(opcode)) {
          return Sense.invalidCdbField(3);
        }
        d = one(CommandTable.lookup(opcode, 0), rctd);
      }
      case 2 -> {
        if (!CommandTable.hasServiceAction(opcode)) {
          return Sense.invalidCdbField(3);
        }
        d = one(CommandTable.lookup(opcode, serviceAction), rctd);
      }
      case 3 -> d = one(CommandTable.lookup(opcode, serviceAction), rctd);
      default -> {
        return Sense.invalidCdbField(2);
      }
    }
    return Sense.good(ByteBuffer.wrap(d, 0, (int) Math.min(alloc, d.length)));
  }

  private static byte[] all(boolean rctd) {
    List<Command> commands = CommandTable.all();
    int each = 8 + (rctd ? TIMEOUTS_DESCRIPTOR_BYTES : 0);
    byte[] d = new byte[4 + each * commands.size()];
    BigEndian.put32(d, 0, (long) each * commands.size());
    int p = 4;
    for (Command c : commands) {
      d[p] = (byte) c.opcode();
      boolean sa = c.serviceAction() >= 0;
      BigEndian.put16(d, p + 2, sa ? c.serviceAction() : 0);
      d[p + 5] = (byte) ((rctd ? 0x02 : 0) | (sa ? 0x01 : 0)); // CTDP, SERVACTV
      BigEndian.put16(d, p + 6, c.cdbLength());
      if (rctd) {
        timeouts(d, p + 8);
      }
      p += each;
    }
    return d;
  }

  /** One-command format; SUPPORT 001b (not supported) with no usage data for unknown commands. */
  private static byte[] one(Command c, boolean rctd) {
    if (c == null) {
      byte[] d = new byte[4];
      d[1] = 0x01;
      return d;
    }
    byte[] usage = c.usageData();
    byte[] d = new byte[4 + usage.length + (rctd ? TIMEOUTS_DESCRIPTOR_BYTES : 0)];
    d[1] = (byte) ((rctd ? 0x80 : 0) | 0x03); // CTDP, SUPPORT 011b: supported as the standard says
    BigEndian.put16(d, 2, usage.length);
    System.arraycopy(usage, 0, d, 4, usage.length);
    if (rctd) {
      timeouts(d, 4 + usage.length);
    }
    return d;
  }

  private static void timeouts(byte[] d, int at) {
    BigEndian.put16(d, at, 0x0a);
    BigEndian.put32(d, at + 4, NOMINAL_TIMEOUT_SECONDS);
    BigEndian.put32(d, at + 8, RECOMMENDED_TIMEOUT_SECONDS);
  }

  /** The task management functions the iSCSI transport implements. */
  static ScsiResult taskManagement(byte[] cdb) {
    boolean repd = (cdb[2] & 0x80) != 0;
    long alloc = BigEndian.u32(cdb, 6);
    byte[] d = new byte[repd ? 16 : 4];
    d[0] = (byte) 0xda; // ATS, ATSS, CTSS, LURS, TRS (iSCSI target warm/cold reset)
    d[1] = 0x00;
    if (repd) {
      d[3] = 0x0c;
    }
    return Sense.good(ByteBuffer.wrap(d, 0, (int) Math.min(alloc, d.length)));
  }
}
