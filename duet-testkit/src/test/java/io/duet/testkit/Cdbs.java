package io.duet.testkit;

/** CDBs the end-to-end tests send through {@link RawInitiator}. */
final class Cdbs {
  private Cdbs() {}

  static byte[] write10(long lba, int blocks, boolean fua) {
    byte[] c = new byte[10];
    c[0] = 0x2a;
    c[1] = (byte) (fua ? 0x08 : 0);
    putInt(c, 2, (int) lba);
    c[7] = (byte) (blocks >>> 8);
    c[8] = (byte) blocks;
    return c;
  }

  static byte[] read10(long lba, int blocks) {
    byte[] c = new byte[10];
    c[0] = 0x28;
    putInt(c, 2, (int) lba);
    c[7] = (byte) (blocks >>> 8);
    c[8] = (byte) blocks;
    return c;
  }

  /**
   * COMPARE AND WRITE of {@code blocks} at {@code lba}; its Data-Out is compare then write data.
   */
  static byte[] compareAndWrite(long lba, int blocks) {
    byte[] c = new byte[16];
    c[0] = (byte) 0x89;
    putLong(c, 2, lba);
    c[13] = (byte) blocks;
    return c;
  }

  static byte[] synchronizeCache10() {
    byte[] c = new byte[10];
    c[0] = 0x35;
    return c;
  }

  /** MODE SENSE(6) of the caching page (08h), current values, no block descriptors. */
  static byte[] modeSenseCaching(int allocation) {
    return new byte[] {0x1a, 0x08, 0x08, 0, (byte) allocation, 0};
  }

  /** MODE SELECT(6) with PF of a {@link #cachingPage} parameter list. */
  static byte[] modeSelect6(int parameterListLength) {
    return new byte[] {0x15, 0x10, 0, 0, (byte) parameterListLength, 0};
  }

  /** A MODE SELECT(6) parameter list: header, no block descriptor, the caching page with WCE. */
  static byte[] cachingPage(boolean wce) {
    byte[] p = new byte[4 + 2 + 0x12];
    p[4] = 0x08;
    p[5] = 0x12;
    p[6] = (byte) (wce ? 0x04 : 0);
    return p;
  }

  static byte[] testUnitReady() {
    return new byte[6];
  }

  static byte[] inquiry(int allocation) {
    return new byte[] {0x12, 0, 0, (byte) (allocation >>> 8), (byte) allocation, 0};
  }

  /** PERSISTENT RESERVE OUT with a 24-byte basic parameter list. */
  static byte[] persistentReserveOut(int serviceAction, int type) {
    byte[] c = new byte[10];
    c[0] = 0x5f;
    c[1] = (byte) serviceAction;
    c[2] = (byte) type;
    c[8] = 24;
    return c;
  }

  static byte[] prOutParameters(long key, long serviceActionKey, boolean aptpl) {
    byte[] p = new byte[24];
    putLong(p, 0, key);
    putLong(p, 8, serviceActionKey);
    p[20] = (byte) (aptpl ? 0x01 : 0);
    return p;
  }

  static byte[] persistentReserveIn(int serviceAction, int allocation) {
    byte[] c = new byte[10];
    c[0] = 0x5e;
    c[1] = (byte) serviceAction;
    c[7] = (byte) (allocation >>> 8);
    c[8] = (byte) allocation;
    return c;
  }

  static void putInt(byte[] b, int off, int v) {
    b[off] = (byte) (v >>> 24);
    b[off + 1] = (byte) (v >>> 16);
    b[off + 2] = (byte) (v >>> 8);
    b[off + 3] = (byte) v;
  }

  static void putLong(byte[] b, int off, long v) {
    for (int i = 0; i < 8; i++) {
      b[off + i] = (byte) (v >>> (56 - 8 * i));
    }
  }

  static long getLong(byte[] b, int off) {
    long v = 0;
    for (int i = 0; i < 8; i++) {
      v = (v << 8) | (b[off + i] & 0xff);
    }
    return v;
  }
}
