package io.duet.scsi;

import static io.duet.scsi.Fixture.BLOCKS;
import static io.duet.scsi.Fixture.BS;
import static io.duet.scsi.Fixture.assertGood;
import static io.duet.scsi.Fixture.assertSense;
import static io.duet.scsi.Fixture.cdb;
import static io.duet.scsi.Fixture.data;
import static io.duet.scsi.Fixture.pattern;
import static io.duet.scsi.Fixture.rw10;
import static io.duet.scsi.Fixture.rw12;
import static io.duet.scsi.Fixture.rw16;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class BlockCommandsTest {
  private final Fixture f = new Fixture();

  @Test
  void writeThenReadBackInEveryCdbSize() {
    int[][] pairs = {{0x2a, 0x28}, {0xaa, 0xa8}, {0x8a, 0x88}};
    long lba = 7;
    for (int[] p : pairs) {
      byte[] payload = pattern(3, p[0]);
      byte[] w =
          p[0] == 0x2a
              ? rw10(p[0], lba, 3)
              : p[0] == 0xaa ? rw12(p[0], lba, 3) : rw16(p[0], lba, 3);
      byte[] r =
          p[1] == 0x28
              ? rw10(p[1], lba, 3)
              : p[1] == 0xa8 ? rw12(p[1], lba, 3) : rw16(p[1], lba, 3);
      assertGood(f.run(w, payload));
      ScsiResult read = f.run(r);
      assertGood(read);
      assertThat(data(read)).isEqualTo(payload);
      assertThat(f.lu.dataOutLength(w)).isEqualTo(3 * BS);
      assertThat(f.lu.dataOutLength(r)).isZero();
    }
  }

  @Test
  void sixByteCdbsUseTwentyOneBitLbaAndZeroMeans256() {
    byte[] payload = pattern(256, 5);
    byte[] write6 = cdb(0x0a, 0x00, 0x00, 0x10, 0x00, 0x00);
    assertThat(f.lu.dataOutLength(write6)).isEqualTo(256 * BS);
    assertGood(f.run(write6, payload));
    ScsiResult read = f.run(cdb(0x08, 0x00, 0x00, 0x10, 0x00, 0x00));
    assertGood(read);
    assertThat(data(read)).isEqualTo(payload);
    assertSense(f.run(cdb(0x08, 0x1f, 0xff, 0xff, 0x01, 0x00)), 5, 0x21, 0);
  }

  @Test
  void beyondEndOfVolumeIsLbaOutOfRange() {
    assertSense(f.run(rw10(0x28, BLOCKS, 1)), 5, 0x21, 0);
    assertSense(f.run(rw10(0x28, BLOCKS - 1, 2)), 5, 0x21, 0);
    assertSense(f.run(rw16(0x88, -1L, 1)), 5, 0x21, 0);
    assertSense(f.run(rw16(0x88, 0x8000000000000000L, 1)), 5, 0x21, 0);
    assertSense(f.run(rw10(0x28, BLOCKS + 1, 0)), 5, 0x21, 0);
    assertGood(f.run(rw10(0x28, BLOCKS, 0)));
    assertGood(f.run(rw10(0x28, BLOCKS - 1, 1)));
  }

  @Test
  void protectionFieldsAreInvalidFieldsWithPointer() {
    for (int prot = 1; prot < 8; prot++) {
      byte[] c = rw10(0x28, 0, 1);
      c[1] = (byte) (prot << 5);
      ScsiResult r = f.run(c);
      assertSense(r, 5, 0x24, 0);
      assertThat(r.sense()[15] & 0xc0).isEqualTo(0xc0); // SKSV, C/D = CDB
      assertThat(r.sense()[17]).isEqualTo((byte) 1);
    }
  }

  @Test
  void fuaAndDpoAreAcceptedAndFuaIsWriteThrough() {
    byte[] c = rw10(0x2a, 0, 1);
    c[1] = 0x18;
    assertGood(f.run(c, pattern(1, 1)));
    assertThat(f.volume.fuaWrites).isEqualTo(1);
    byte[] r = rw10(0x28, 0, 1);
    r[1] = 0x18;
    assertGood(f.run(r));
  }

  @Test
  void shortDataOutWritesTheWholeBlocksThatArrivedOrNothing() {
    assertGood(f.run(rw10(0x2a, 0, 2), pattern(1, 9)));
    assertThat(f.volume.isAllocated(0)).isTrue();
    assertThat(f.volume.isAllocated(1)).isFalse();
    assertGood(f.run(rw10(0x2a, 5, 1), new byte[0]));
    assertThat(f.volume.isAllocated(5)).isFalse();
    assertSense(f.run(rw10(0x2a, 8, 1), new byte[200]), 5, 0x0e, 0x03);
    assertThat(f.volume.isAllocated(8)).isFalse();
  }

  @Test
  void transferLongerThanTheLimitIsInvalidField() {
    ScsiResult r = f.run(rw16(0x88, 0, BlockLimits.MAX_TRANSFER_BYTES / BS + 1));
    assertThat(r.status()).isEqualTo(ScsiResult.CHECK_CONDITION);
  }

  @Test
  void ioErrorsMapToMediumErrors() {
    f.volume.failReads = true;
    assertSense(f.run(rw10(0x28, 0, 1)), 3, 0x11, 0);
    f.volume.failWrites = true;
    assertSense(f.run(rw10(0x2a, 0, 1), pattern(1, 0)), 3, 0x0c, 0);
    assertSense(f.run(rw10(0x35, 0, 0)), 3, 0x0c, 0);
  }

  @Test
  void verifyComparesAndReportsTheMiscompareOffset() {
    byte[] payload = pattern(4, 3);
    assertGood(f.run(rw10(0x2a, 10, 4), payload));
    byte[] v = rw10(0x2f, 10, 4);
    v[1] = 0x02; // BYTCHK 01b
    assertThat(f.lu.dataOutLength(v)).isEqualTo(4 * BS);
    assertGood(f.run(v, payload));
    byte[] bad = payload.clone();
    bad[1000] ^= 0x55;
    ScsiResult r = f.run(v, bad);
    assertSense(r, 0x0e, 0x1d, 0);
    assertThat(r.sense()[0] & 0x80).isEqualTo(0x80);
    assertThat(BigEndian.u32(r.sense(), 3)).isEqualTo(1000);
    byte[] noCompare = rw16(0x8f, 10, 4);
    assertGood(f.run(noCompare, new byte[0]));
    byte[] reserved = rw10(0x2f, 10, 4);
    reserved[1] = 0x04; // BYTCHK 10b is reserved
    assertSense(f.run(reserved, payload), 5, 0x24, 0);
  }

  @Test
  void verifyWithOneBlockAgainstEveryBlock() {
    byte[] block = pattern(1, 8);
    byte[] four = new byte[4 * BS];
    for (int i = 0; i < 4; i++) {
      System.arraycopy(block, 0, four, i * BS, BS);
    }
    assertGood(f.run(rw10(0x2a, 0, 4), four));
    byte[] v = rw12(0xaf, 0, 4);
    v[1] = 0x06; // BYTCHK 11b
    assertThat(f.lu.dataOutLength(v)).isEqualTo(BS);
    assertGood(f.run(v, block));
    four[3 * BS + 7] ^= 1;
    assertGood(f.run(rw10(0x2a, 0, 4), four));
    ScsiResult r = f.run(v, block);
    assertSense(r, 0x0e, 0x1d, 0);
    assertThat(BigEndian.u32(r.sense(), 3)).isEqualTo(3 * BS + 7);
  }

  @Test
  void writeAndVerifyIsDurable() {
    assertGood(f.run(rw16(0x8e, 5, 2), pattern(2, 4)));
    assertThat(f.volume.fuaWrites).isEqualTo(1);
    assertThat(f.volume.bytes(5 * BS, 2 * BS)).isEqualTo(pattern(2, 4));
  }

  @Test
  void compareAndWriteWritesOnlyOnMatch() {
    byte[] old = pattern(2, 1);
    assertGood(f.run(rw10(0x2a, 20, 2), old));
    byte[] caw = rw16(0x89, 20, 0);
    caw[13] = 2;
    assertThat(f.lu.dataOutLength(caw)).isEqualTo(4 * BS);
    byte[] fresh = pattern(2, 2);
    byte[] both = new byte[4 * BS];
    System.arraycopy(old, 0, both, 0, 2 * BS);
    System.arraycopy(fresh, 0, both, 2 * BS, 2 * BS);
    assertGood(f.run(caw, both));
    assertThat(f.volume.bytes(20 * BS, 2 * BS)).isEqualTo(fresh);

    ScsiResult miss = f.run(caw, both); // the compare half no longer matches
    assertSense(miss, 0x0e, 0x1d, 0);
    assertThat(miss.sense()[0] & 0x80).isEqualTo(0x80);
    long at = BigEndian.u32(miss.sense(), 3);
    assertThat(old[(int) at]).isNotEqualTo(fresh[(int) at]);
    assertThat(f.volume.bytes(20 * BS, 2 * BS)).isEqualTo(fresh);
  }

  @Test
  void compareAndWriteZeroBlocksAndRange() {
    byte[] caw = rw16(0x89, BLOCKS - 1, 0);
    assertSense(f.run(caw, new byte[0]), 5, 0x24, 0); // NLB 0: a wrapped 256, refused
    caw[13] = 2;
    assertSense(f.run(caw, new byte[4 * BS]), 5, 0x21, 0);
    caw[1] = (byte) 0x20; // WRPROTECT
    assertSense(f.run(caw, new byte[4 * BS]), 5, 0x24, 0);
  }

  @Test
  void orWriteOrsIntoTheMedium() {
    byte[] a = new byte[BS];
    a[0] = 0x0f;
    assertGood(f.run(rw10(0x2a, 3, 1), a));
    byte[] b = new byte[BS];
    b[0] = (byte) 0xf0;
    b[1] = 0x01;
    assertGood(f.run(rw16(0x8b, 3, 1), b));
    byte[] now = f.volume.bytes(3 * BS, BS);
    assertThat(now[0]).isEqualTo((byte) 0xff);
    assertThat(now[1]).isEqualTo((byte) 0x01);
  }

  @Test
  void synchronizeCacheFlushesAndChecksRange() {
    assertGood(f.run(rw10(0x35, 0, 0)));
    assertGood(f.run(rw16(0x91, 0, 10)));
    assertThat(f.volume.flushes).isEqualTo(2);
    assertSense(f.run(rw16(0x91, BLOCKS, 1)), 5, 0x21, 0);
  }

  @Test
  void prefetchChecksRangeAndAcceptsImmedAndGroup() {
    byte[] c = rw10(0x34, 0, 1);
    c[1] = 0x02;
    c[6] = 0x03;
    assertGood(f.run(c));
    assertGood(f.run(rw16(0x90, BLOCKS - 256, 256)));
    assertSense(f.run(rw16(0x90, BLOCKS - 1, 2)), 5, 0x21, 0);
  }

  @Test
  void readCapacityTenAndSixteen() {
    ScsiResult r10 = f.run(cdb(0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0));
    assertGood(r10);
    byte[] d = data(r10);
    assertThat(BigEndian.u32(d, 0)).isEqualTo(BLOCKS - 1);
    assertThat(BigEndian.u32(d, 4)).isEqualTo(BS);
    byte[] rc16 = cdb(0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0);
    byte[] d16 = data(f.run(rc16));
    assertThat(d16).hasSize(32);
    assertThat(BigEndian.u64(d16, 0)).isEqualTo(BLOCKS - 1);
    assertThat(d16[14] & 0xc0).isEqualTo(0xc0);
    for (int alloc = 0; alloc < 16; alloc++) {
      rc16[13] = (byte) alloc;
      ScsiResult r = f.run(rc16);
      assertGood(r);
      assertThat(r.dataIn().remaining()).isEqualTo(alloc);
    }
  }

  @Test
  void readDefectDataReturnsEmptyLists() {
    ScsiResult r10 = f.run(cdb(0x37, 0, 0x18, 0, 0, 0, 0, 0, 32, 0));
    assertGood(r10);
    assertThat(data(r10)).containsExactly(0, 0x18, 0, 0);
    ScsiResult r12 = f.run(cdb(0xb7, 0x18, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0));
    assertGood(r12);
    assertThat(data(r12)).hasSize(8);
  }

  @Test
  void writeCacheDisabledMakesEveryWriteFua() {
    byte[] sense = data(f.run(cdb(0x1a, 0x08, 0x08, 0, 0xff, 0)));
    byte[] select = new byte[4 + 20];
    System.arraycopy(sense, 4, select, 4, 20);
    select[4 + 2] &= ~0x04;
    assertGood(f.run(cdb(0x15, 0x10, 0, 0, select.length, 0), select));
    assertGood(f.run(rw10(0x2a, 0, 1), pattern(1, 0)));
    assertThat(f.volume.fuaWrites).isEqualTo(1);
  }

  @Test
  void readOnlyMappingRefusesEveryWriteCommand() {
    byte[][] writes = {
      rw10(0x2a, 0, 1),
      rw12(0xaa, 0, 1),
      rw16(0x8a, 0, 1),
      rw10(0x2e, 0, 1),
      rw16(0x8b, 0, 1),
      rw10(0x41, 0, 1),
      rw16(0x93, 0, 1),
      cdb(0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0),
      rw16(0x89, 0, 0),
      cdb(0x0a, 0, 0, 0, 1, 0)
    };
    for (byte[] w : writes) {
      assertSense(f.runReadOnly(w, new byte[0]), 7, 0x27, 0);
    }
    assertGood(f.runReadOnly(rw10(0x28, 0, 1), new byte[0]));
  }

  @Test
  void dataInIsAFreshBufferPerRead() {
    ScsiResult a = f.run(rw10(0x28, 0, 1));
    ScsiResult b = f.run(rw10(0x28, 0, 1));
    assertThat(a.dataIn()).isNotSameAs(b.dataIn());
    assertThat(a.dataIn().position()).isZero();
    assertThat(a.dataIn()).isEqualTo(ByteBuffer.wrap(new byte[BS]));
  }
}
