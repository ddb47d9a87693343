package io.duet.scsi;

/**
 * How many Data-Out bytes a (table-known, long enough) CDB transfers: block data for writes, the
 * parameter list length for commands with parameter lists.
 */
final class DataOut {
  private DataOut() {}

  /** Bytes of Data-Out; may exceed int range for absurd CDBs (the caller rejects those). */
  static long length(byte[] cdb, int blockSize) {
    int op = cdb[0] & 0xff;
    return switch (op) {
      case 0x0a -> (long) Lba.blocks6(cdb) * blockSize;
      case 0x2a, 0xaa, 0x8a, 0x2e, 0xae, 0x8e, 0x8b -> Lba.blocks(cdb) * blockSize;
      case 0x2f, 0xaf, 0x8f -> verifyLength(cdb, blockSize);
      case 0x41 -> blockSize;
      case 0x93 -> (cdb[1] & 0x01) != 0 ? 0 : blockSize; // NDOB: no data-out buffer
      case 0x89 -> 2L * BigEndian.u8(cdb, 13) * blockSize;
      case 0x9c -> (long) BigEndian.u16(cdb, 12) * blockSize; // WRITE ATOMIC(16)
      case 0x42, 0x55 -> BigEndian.u16(cdb, 7);
      case 0x15 -> BigEndian.u8(cdb, 4);
      case 0x5f -> BigEndian.u32(cdb, 5);
      case 0x83 -> BigEndian.u32(cdb, 10);
      default -> 0;
    };
  }

  /** VERIFY: BYTCHK 01b sends every block, 11b one block to compare against all of them. */
  private static long verifyLength(byte[] cdb, int blockSize) {
    long blocks = Lba.blocks(cdb);
    return switch ((cdb[1] >> 1) & 0x3) {
      case 1 -> blocks * blockSize;
      case 3 -> blocks == 0 ? 0 : blockSize;
      default -> 0;
    };
  }
}
