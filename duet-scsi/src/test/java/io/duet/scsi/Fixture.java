package io.duet.scsi;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.List;

/** A logical unit over a RAM volume with two site port groups, and CDB helpers for tests. */
final class Fixture {
  static final int BS = 512;
  static final long BLOCKS = 4096;

  final RamVolume volume;
  final AluaGroups alua;
  final ScsiSite site;
  final LogicalUnit lu;
  final TargetPort portA =
      new TargetPort("iqn.2025-01.io.duet:t,t,0x0001", "iqn.2025-01.io.duet:t", 1, 1);
  final TargetPort portB =
      new TargetPort("iqn.2025-01.io.duet:t,t,0x0002", "iqn.2025-01.io.duet:t", 2, 2);
  final ItNexus nexus = new ItNexus("iqn.init", "iqn.init,i,0x000000000001", portA);
  final ItNexus nexusB = new ItNexus("iqn.init", "iqn.init,i,0x000000000001", portB);

  Fixture() {
    this(new RamVolume(BS, BLOCKS));
  }

  Fixture(RamVolume volume) {
    this.volume = volume;
    this.alua =
        new AluaGroups(
            List.of(
                new AluaGroups.PortGroup(1, AluaState.ACTIVE_OPTIMIZED, List.of(1)),
                new AluaGroups.PortGroup(2, AluaState.ACTIVE_NON_OPTIMIZED, List.of(2))));
    this.site = new ScsiSite(alua);
    this.lu = new LogicalUnit(volume, site, PersistentState.NONE);
  }

  ScsiResult run(byte[] cdb) {
    return run(nexus, cdb, new byte[0]);
  }

  ScsiResult run(byte[] cdb, byte[] dataOut) {
    return run(nexus, cdb, dataOut);
  }

  ScsiResult run(ItNexus n, byte[] cdb, byte[] dataOut) {
    return lu.execute(new ScsiTask(n, cdb, ByteBuffer.wrap(dataOut), 1 << 24, false, 1));
  }

  ScsiResult runReadOnly(byte[] cdb, byte[] dataOut) {
    return lu.execute(new ScsiTask(nexus, cdb, ByteBuffer.wrap(dataOut), 1 << 24, true, 1));
  }

  // ---- CDB builders ----

  /** MODE SELECT(6) with PF, of a parameter list of {@code length} bytes. */
  static byte[] modeSelect6(int length) {
    return cdb(0x15, 0x10, 0, 0, length, 0);
  }

  /** A MODE SELECT(6) parameter list: no block descriptor, the caching page with {@code wce}. */
  static byte[] cachingPage(boolean wce) {
    byte[] p = new byte[4 + 2 + 0x12];
    p[4] = 0x08;
    p[5] = 0x12;
    p[6] = (byte) (wce ? 0x04 : 0);
    return p;
  }

  /** Turns the unit's write cache off through this fixture's nexus. */
  void writeCacheOff() {
    byte[] off = cachingPage(false);
    assertGood(run(modeSelect6(off.length), off));
  }

  static byte[] cdb(int... bytes) {
    byte[] c = new byte[bytes.length];
    for (int i = 0; i < bytes.length; i++) {
      c[i] = (byte) bytes[i];
    }
    return c;
  }

  static byte[] rw10(int op, long lba, int blocks) {
    byte[] c = new byte[10];
    c[0] = (byte) op;
    BigEndian.put32(c, 2, lba);
    BigEndian.put16(c, 7, blocks);
    return c;
  }

  static byte[] rw12(int op, long lba, long blocks) {
    byte[] c = new byte[12];
    c[0] = (byte) op;
    BigEndian.put32(c, 2, lba);
    BigEndian.put32(c, 6, blocks);
    return c;
  }

  static byte[] rw16(int op, long lba, long blocks) {
    byte[] c = new byte[16];
    c[0] = (byte) op;
    BigEndian.put64(c, 2, lba);
    BigEndian.put32(c, 10, blocks);
    return c;
  }

  static byte[] inquiry(boolean evpd, int page, int alloc) {
    byte[] c = new byte[6];
    c[0] = 0x12;
    c[1] = (byte) (evpd ? 1 : 0);
    c[2] = (byte) page;
    BigEndian.put16(c, 3, alloc);
    return c;
  }

  static byte[] pattern(int blocks, int seed) {
    byte[] b = new byte[blocks * BS];
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) (i * 31 + seed);
    }
    return b;
  }

  static byte[] data(ScsiResult r) {
    ByteBuffer d = r.dataIn().duplicate();
    byte[] b = new byte[d.remaining()];
    d.get(b);
    return b;
  }

  static void assertGood(ScsiResult r) {
    assertThat(r.status()).as("status, sense %s", hex(r.sense())).isEqualTo(ScsiResult.GOOD);
  }

  static void assertSense(ScsiResult r, int key, int asc, int ascq) {
    assertThat(r.status()).isEqualTo(ScsiResult.CHECK_CONDITION);
    assertThat(r.sense()[2] & 0x0f).as("sense key of %s", hex(r.sense())).isEqualTo(key);
    assertThat(r.sense()[12] & 0xff).as("ASC of %s", hex(r.sense())).isEqualTo(asc);
    assertThat(r.sense()[13] & 0xff).as("ASCQ of %s", hex(r.sense())).isEqualTo(ascq);
  }

  static String hex(byte[] b) {
    return java.util.HexFormat.of().formatHex(b);
  }
}
