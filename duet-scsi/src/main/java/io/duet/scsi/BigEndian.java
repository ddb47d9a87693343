package io.duet.scsi;

/**
 * Big-endian field access on CDBs and parameter data: SCSI encodes every multi-byte field
 * most-significant byte first. Callers check lengths before reading; these never allocate.
 */
final class BigEndian {
  private BigEndian() {}

  static int u8(byte[] b, int off) {
    return b[off] & 0xff;
  }

  static int u16(byte[] b, int off) {
    return (b[off] & 0xff) << 8 | (b[off + 1] & 0xff);
  }

  static int u24(byte[] b, int off) {
    return (b[off] & 0xff) << 16 | (b[off + 1] & 0xff) << 8 | (b[off + 2] & 0xff);
  }

  /** Unsigned 32-bit value widened to long. */
  static long u32(byte[] b, int off) {
    return ((long) (b[off] & 0xff) << 24)
        | (b[off + 1] & 0xff) << 16
        | (b[off + 2] & 0xff) << 8
        | (b[off + 3] & 0xff);
  }

  /** Raw 64 bits; values above Long.MAX_VALUE come back negative and callers treat them so. */
  static long u64(byte[] b, int off) {
    return u32(b, off) << 32 | u32(b, off + 4);
  }

  static void put16(byte[] b, int off, int v) {
    b[off] = (byte) (v >>> 8);
    b[off + 1] = (byte) v;
  }

  static void put24(byte[] b, int off, int v) {
    b[off] = (byte) (v >>> 16);
    b[off + 1] = (byte) (v >>> 8);
    b[off + 2] = (byte) v;
  }

  static void put32(byte[] b, int off, long v) {
    b[off] = (byte) (v >>> 24);
    b[off + 1] = (byte) (v >>> 16);
    b[off + 2] = (byte) (v >>> 8);
    b[off + 3] = (byte) v;
  }

  static void put64(byte[] b, int off, long v) {
    put32(b, off, v >>> 32);
    put32(b, off + 4, v);
  }
}
