package io.duet.scsi;

import static io.duet.scsi.Fixture.BLOCKS;
import static io.duet.scsi.Fixture.BS;
import static io.duet.scsi.Fixture.assertGood;
import static io.duet.scsi.Fixture.assertSense;
import static io.duet.scsi.Fixture.cdb;
import static io.duet.scsi.Fixture.data;
import static io.duet.scsi.Fixture.pattern;
import static io.duet.scsi.Fixture.rw10;
import static io.duet.scsi.Fixture.rw16;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ProvisioningTest {
  private final Fixture f = new Fixture();

  private static byte[] unmapList(long... lbaCountPairs) {
    int n = lbaCountPairs.length / 2;
    byte[] p = new byte[8 + 16 * n];
    BigEndian.put16(p, 0, p.length - 2);
    BigEndian.put16(p, 2, 16 * n);
    for (int i = 0; i < n; i++) {
      BigEndian.put64(p, 8 + 16 * i, lbaCountPairs[2 * i]);
      BigEndian.put32(p, 16 + 16 * i, lbaCountPairs[2 * i + 1]);
    }
    return p;
  }

  private static byte[] unmapCdb(int length) {
    return cdb(0x42, 0, 0, 0, 0, 0, 0, length >> 8, length, 0);
  }

  @Test
  void unmapDeallocatesAndReadsZero() {
    assertGood(f.run(rw10(0x2a, 0, 8), pattern(8, 1)));
    byte[] list = unmapList(2, 3, 7, 1);
    assertThat(f.lu.dataOutLength(unmapCdb(list.length))).isEqualTo(list.length);
    assertGood(f.run(unmapCdb(list.length), list));
    assertThat(f.volume.isAllocated(2)).isFalse();
    assertThat(f.volume.isAllocated(4)).isFalse();
    assertThat(f.volume.isAllocated(5)).isTrue();
    assertThat(f.volume.bytes(2 * BS, 3 * BS)).containsOnly(0);
  }

  @Test
  void unmapParameterChecks() {
    assertGood(f.run(unmapCdb(0), new byte[0]));
    assertSense(f.run(unmapCdb(6), new byte[6]), 5, 0x1a, 0);
    assertGood(f.run(unmapCdb(8), unmapList()));
    byte[] eol = unmapList(BLOCKS, 0);
    assertGood(f.run(unmapCdb(eol.length), eol));
    byte[] oob = unmapList(BLOCKS - 1, 2);
    assertSense(f.run(unmapCdb(oob.length), oob), 5, 0x21, 0);
    long[] many = new long[2 * (BlockLimits.MAX_UNMAP_DESCRIPTORS + 1)];
    byte[] tooMany = unmapList(many);
    assertSense(f.run(unmapCdb(tooMany.length), tooMany), 5, 0x26, 0);
    byte[] anchor = unmapCdb(24);
    anchor[1] = 1;
    assertSense(f.run(anchor, unmapList(0, 1)), 5, 0x24, 0);
  }

  @Test
  void unmapValidatesEveryDescriptorBeforeChangingAnything() {
    assertGood(f.run(rw10(0x2a, 0, 1), pattern(1, 1)));
    byte[] list = unmapList(0, 1, BLOCKS, 1);
    assertSense(f.run(unmapCdb(list.length), list), 5, 0x21, 0);
    assertThat(f.volume.isAllocated(0)).isTrue();
  }

  @Test
  void writeSameRepeatsTheBlock() {
    byte[] block = pattern(1, 3);
    assertThat(f.lu.dataOutLength(rw10(0x41, 0, 5))).isEqualTo(BS);
    assertGood(f.run(rw10(0x41, 100, 5), block));
    for (int i = 0; i < 5; i++) {
      assertThat(f.volume.bytes((100 + i) * BS, BS)).isEqualTo(block);
    }
  }

  @Test
  void withTheWriteCacheOffWriteSameIsDurableBeforeItsStatus() {
    byte[] unmap = rw16(0x93, 300, 4);
    unmap[1] = 0x08;
    assertGood(f.run(rw10(0x41, 100, 5), pattern(1, 3)));
    assertGood(f.run(rw10(0x41, 200, 5), new byte[BS]));
    assertGood(f.run(unmap, new byte[BS]));
    assertThat(f.volume.flushes).as("WCE=1: acknowledged from the cache").isZero();
    f.writeCacheOff();
    assertGood(f.run(rw10(0x41, 100, 5), pattern(1, 4))); // a pattern
    assertGood(f.run(rw10(0x41, 200, 5), new byte[BS])); // zeros
    assertGood(f.run(unmap, new byte[BS])); // deallocation
    assertThat(f.volume.flushes).isEqualTo(3);
  }

  @Test
  void writeSameWithUnmapDeallocatesZeroBlocks() {
    assertGood(f.run(rw10(0x2a, 0, 4), pattern(4, 1)));
    byte[] ws = rw16(0x93, 0, 4);
    ws[1] = 0x08;
    assertGood(f.run(ws, new byte[BS]));
    assertThat(f.volume.isAllocated(0)).isFalse();
    assertThat(f.volume.bytes(0, 4 * BS)).containsOnly(0);
    byte[] keep = rw10(0x41, 0, 4); // zeros without UNMAP stay allocated
    assertGood(f.run(keep, new byte[BS]));
    assertThat(f.volume.isAllocated(0)).isTrue();
  }

  @Test
  void writeSameWithUnmapIgnoresANonZeroPattern() {
    assertGood(f.run(rw10(0x2a, 0, 2), pattern(2, 1)));
    byte[] ws = rw10(0x41, 0, 2);
    ws[1] = 0x08;
    assertGood(f.run(ws, pattern(1, 7)));
    assertThat(f.volume.bytes(0, 2 * BS)).containsOnly(0);
  }

  @Test
  void writeSameNdobAndZeroBlocksToTheEnd() {
    byte[] ndob = rw16(0x93, BLOCKS - 3, 0);
    ndob[1] = 0x09; // UNMAP | NDOB
    assertThat(f.lu.dataOutLength(ndob)).isZero();
    assertGood(f.run(rw16(0x8a, BLOCKS - 3, 3), pattern(3, 2)));
    assertGood(f.run(ndob, new byte[0]));
    assertThat(f.volume.bytes((BLOCKS - 3) * BS, 3 * BS)).containsOnly(0);
  }

  @Test
  void writeSameChecks() {
    assertSense(f.run(rw10(0x41, BLOCKS + 1, 0), new byte[BS]), 5, 0x21, 0);
    assertSense(f.run(rw10(0x41, BLOCKS - 1, 2), new byte[BS]), 5, 0x21, 0);
    assertSense(f.run(rw16(0x93, -1L, 1), new byte[BS]), 5, 0x21, 0);
    byte[] anchor = rw10(0x41, 0, 1);
    anchor[1] = 0x18; // ANCHOR | UNMAP: ANC_SUP is 0
    assertSense(f.run(anchor, new byte[BS]), 5, 0x24, 0);
    byte[] wrprotect = rw10(0x41, 0, 1);
    wrprotect[1] = 0x20;
    assertSense(f.run(wrprotect, new byte[BS]), 5, 0x24, 0);
    assertSense(f.run(rw10(0x41, 0, 1), new byte[BS / 2]), 5, 0x0e, 0x03);
  }

  @Test
  void writeSameLongerThanTheLimitIsInvalidField() {
    int max = BlockLimits.MAX_WRITE_SAME_BYTES / BS;
    RamVolume big = new RamVolume(BS, max + 8L);
    Fixture g = new Fixture(big);
    assertSense(g.run(rw16(0x93, 0, 0), new byte[BS]), 5, 0x24, 0);
    assertSense(g.run(rw16(0x93, 0, max + 1), new byte[BS]), 5, 0x24, 0);
    assertGood(g.run(rw16(0x93, 8, 0), new byte[BS]));
  }

  private static byte[] lbaStatus(long lba, int alloc) {
    byte[] c = rw16(0x9e, lba, alloc);
    c[1] = 0x12;
    return c;
  }

  @Test
  void getLbaStatusReportsRuns() {
    assertGood(f.run(rw10(0x2a, 10, 5), pattern(5, 1)));
    ScsiResult r = f.run(lbaStatus(8, 24 + 16 * 2));
    assertGood(r);
    byte[] d = data(r);
    assertThat(BigEndian.u32(d, 0)).isEqualTo(4 + 16 * 3);
    assertThat(BigEndian.u64(d, 8)).isEqualTo(8);
    assertThat(BigEndian.u32(d, 16)).isEqualTo(2);
    assertThat(d[20]).isEqualTo((byte) 1);
    assertThat(BigEndian.u64(d, 24)).isEqualTo(10);
    assertThat(BigEndian.u32(d, 32)).isEqualTo(5);
    assertThat(d[36]).isEqualTo((byte) 0);
    assertThat(BigEndian.u64(d, 40)).isEqualTo(15);
    assertThat(d[52]).isEqualTo((byte) 1);
  }

  @Test
  void getLbaStatusRange() {
    assertGood(f.run(lbaStatus(BLOCKS - 1, 24)));
    assertSense(f.run(lbaStatus(BLOCKS, 24)), 5, 0x21, 0);
    assertSense(f.run(lbaStatus(BLOCKS + 1, 24)), 5, 0x21, 0);
    assertSense(f.run(lbaStatus(-1L, 24)), 5, 0x21, 0);
    ScsiResult small = f.run(lbaStatus(0, 4));
    assertGood(small);
    assertThat(small.dataIn().remaining()).isEqualTo(4);
  }
}
