package io.duet.scsi;

import java.nio.ByteBuffer;

/** REPORT LUNS (SPC-4 6.33): the LUN inventory in single-level peripheral or flat addressing. */
final class ReportLuns {
  private ReportLuns() {}

  /** Answers REPORT LUNS for these LUN numbers (ascending, each 0..16383). */
  static ScsiResult respond(byte[] cdb, int[] luns) {
    int select = BigEndian.u8(cdb, 2);
    long alloc = BigEndian.u32(cdb, 6);
    boolean wellKnownOnly;
    switch (select) {
      case 0x00, 0x02 -> wellKnownOnly = false;
      case 0x01 -> wellKnownOnly = true;
      default -> {
        return Sense.invalidCdbField(2);
      }
    }
    // Duet has no well-known logical units, so select report 01h is an empty list.
    int count = wellKnownOnly ? 0 : luns.length;
    byte[] d = new byte[8 + 8 * count];
    BigEndian.put32(d, 0, 8L * count);
    for (int i = 0; i < count; i++) {
      encode(luns[i], d, 8 + 8 * i);
    }
    return Sense.good(ByteBuffer.wrap(d, 0, (int) Math.min(alloc, d.length)));
  }

  /** SAM-5 LUN encoding: peripheral device addressing below 256, flat space addressing above. */
  static void encode(int lun, byte[] d, int at) {
    if (lun < 256) {
      d[at + 1] = (byte) lun;
    } else {
      d[at] = (byte) (0x40 | (lun >> 8 & 0x3f));
      d[at + 1] = (byte) lun;
    }
  }
}
