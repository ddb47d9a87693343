package io.duet.iscsi;

/**
 * Encodes and decodes the 8-byte LUN field (SAM-5 single level: peripheral addressing for LUNs
 * below 256, flat addressing up to 16383).
 */
final class Lun {
  /** What {@link #decode} returns for a LUN field no single-level method can express. */
  static final int INVALID = -1;

  private Lun() {}

  static int decode(long field) {
    int b0 = (int) (field >>> 56) & 0xff;
    int b1 = (int) (field >>> 48) & 0xff;
    if ((field & 0x0000ffffffffffffL) != 0) {
      return INVALID; // second-level addressing: Duet has no hierarchical LUNs
    }
    return switch (b0 >>> 6) {
      case 0 -> b0 == 0 ? b1 : INVALID; // peripheral, bus 0
      case 1 -> ((b0 & 0x3f) << 8) | b1; // flat space
      default -> INVALID;
    };
  }

  static long encode(int lun) {
    if (lun < 0 || lun > 0x3fff) {
      throw new IllegalArgumentException("lun " + lun);
    }
    long b0 = lun < 256 ? 0 : 0x40 | (lun >>> 8);
    return (b0 << 56) | ((long) (lun & 0xff) << 48);
  }
}
