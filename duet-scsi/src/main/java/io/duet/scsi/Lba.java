package io.duet.scsi;

/**
 * Decodes the LOGICAL BLOCK ADDRESS and the block count of the block commands' 6/10/12/16-byte CDB
 * layouts, and checks a range against the capacity without overflowing.
 */
final class Lba {
  private Lba() {}

  /** READ(6)/WRITE(6): 21-bit LBA. */
  static long lba6(byte[] cdb) {
    return (cdb[1] & 0x1f) << 16 | BigEndian.u16(cdb, 2);
  }

  /** READ(6)/WRITE(6): a transfer length of 0 means 256 blocks (SBC-3 5.7). */
  static int blocks6(byte[] cdb) {
    int n = BigEndian.u8(cdb, 4);
    return n == 0 ? 256 : n;
  }

  /** The LBA of a 10-, 12- or 16-byte CDB, by its opcode group; raw 64 bits for 16-byte CDBs. */
  static long lba(byte[] cdb) {
    int op = cdb[0] & 0xff;
    if (op == 0x08 || op == 0x0a) {
      return lba6(cdb);
    }
    if (op >= 0x80 && op <= 0x9f) {
      return BigEndian.u64(cdb, 2);
    }
    return BigEndian.u32(cdb, 2);
  }

  /** The block count of a 10-, 12- or 16-byte CDB (COMPARE AND WRITE: its one-byte NLB). */
  static long blocks(byte[] cdb) {
    int op = cdb[0] & 0xff;
    if (op == 0x08 || op == 0x0a) {
      return blocks6(cdb);
    }
    if (op == 0x89) {
      return BigEndian.u8(cdb, 13);
    }
    if (op >= 0x80 && op <= 0x9f) {
      return BigEndian.u32(cdb, 10);
    }
    if (op >= 0xa0) {
      return BigEndian.u32(cdb, 6);
    }
    return BigEndian.u16(cdb, 7);
  }

  /** CDB byte offset of the transfer length field, for sense field pointers. */
  static int blocksField(byte[] cdb) {
    int op = cdb[0] & 0xff;
    if (op == 0x08 || op == 0x0a) {
      return 4;
    }
    if (op == 0x89) {
      return 13;
    }
    if (op >= 0x80 && op <= 0x9f) {
      return 10;
    }
    return op >= 0xa0 ? 6 : 7;
  }

  /**
   * Whether {@code [lba, lba + blocks)} lies inside a volume of {@code capacity} blocks; an LBA
   * with the top bit set (unsigned above 2^63) is always out of range.
   */
  static boolean inRange(long lba, long blocks, long capacity) {
    return lba >= 0 && blocks >= 0 && lba <= capacity && blocks <= capacity - lba;
  }
}
