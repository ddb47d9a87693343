package io.duet.iscsi;

/**
 * FCP-4's first answer to a write whose Expected Data Transfer Length is below what the CDB asks
 * for: "process the command normally except that data beyond the expected length is not requested
 * or transferred". For WRITE and WRITE AND VERIFY (10/12/16) with an EDTL of whole blocks this is a
 * shorter transfer length. Everything else reaches the logical unit with the Data-Out that arrived;
 * the LU gives the other permitted answer, CHECK CONDITION INVALID FIELD IN COMMAND INFORMATION
 * UNIT, after its write-protection, reservation and ALUA checks.
 */
final class WriteTruncation {
  private WriteTruncation() {}

  /**
   * @param cdb the CDB as received
   * @param takes bytes the CDB transfers (its Data-Out length)
   * @param edtl the EDTL, smaller than {@code takes}
   * @return a copy of the CDB with the transfer length cut to {@code edtl}, or null when the
   *     command is not a plain block write or the EDTL is not a whole number of blocks
   */
  static byte[] truncate(byte[] cdb, int takes, long edtl) {
    int op = cdb[0] & 0xff;
    int at;
    int width;
    switch (op) {
      case 0x2a, 0x2e -> {
        at = 7;
        width = 2;
      }
      case 0xaa, 0xae -> {
        at = 6;
        width = 4;
      }
      case 0x8a, 0x8e -> {
        at = 10;
        width = 4;
      }
      default -> {
        return null;
      }
    }
    long blocks = 0;
    for (int i = 0; i < width; i++) {
      blocks = (blocks << 8) | (cdb[at + i] & 0xff);
    }
    if (blocks == 0 || takes % blocks != 0) {
      return null;
    }
    long blockSize = takes / blocks;
    if (blockSize == 0 || edtl % blockSize != 0) {
      return null;
    }
    long newBlocks = edtl / blockSize;
    byte[] copy = cdb.clone();
    for (int i = width - 1; i >= 0; i--) {
      copy[at + i] = (byte) newBlocks;
      newBlocks >>>= 8;
    }
    return copy;
  }
}
