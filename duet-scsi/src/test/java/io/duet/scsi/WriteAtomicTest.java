package io.duet.scsi;

import static io.duet.scsi.Fixture.BS;
import static io.duet.scsi.Fixture.assertGood;
import static io.duet.scsi.Fixture.assertSense;
import static io.duet.scsi.Fixture.data;
import static io.duet.scsi.Fixture.pattern;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** WRITE ATOMIC(16) through the logical unit: VPD limits, checks, success, FUA, protection. */
class WriteAtomicTest {
  private final Fixture f = new Fixture();

  /** 512-byte blocks: 4 KiB alignment and granularity, 1 MiB maximum. */
  private static final int UNIT = 8;

  private static final int MAX = 2048;

  private static final byte[] REQUEST_SENSE = {0x03, 0, 0, 0, (byte) 252, 0};

  static byte[] writeAtomic16(long lba, int blocks) {
    byte[] c = new byte[16];
    c[0] = (byte) 0x9c;
    BigEndian.put64(c, 2, lba);
    BigEndian.put16(c, 12, blocks);
    return c;
  }

  private static int fieldPointer(ScsiResult r) {
    return BigEndian.u16(r.sense(), 16);
  }

  @Test
  void blockLimitsPageAdvertisesTheAtomicLimits() {
    byte[] b0 = data(f.run(Fixture.inquiry(true, 0xb0, 255)));
    assertThat(b0).hasSize(64);
    assertThat(BigEndian.u32(b0, 44)).isEqualTo(MAX);
    assertThat(BigEndian.u32(b0, 48)).isEqualTo(UNIT);
    assertThat(BigEndian.u32(b0, 52)).isEqualTo(UNIT);
    assertThat(BigEndian.u32(b0, 56)).isZero(); // no atomic boundaries
    assertThat(BigEndian.u32(b0, 60)).isZero();
    assertThat(BigEndian.u32(b0, 44)).isLessThanOrEqualTo(BigEndian.u32(b0, 8));

    Fixture big = new Fixture(new RamVolume(4096, 1024));
    byte[] b0big = data(big.run(Fixture.inquiry(true, 0xb0, 255)));
    assertThat(BigEndian.u32(b0big, 44)).isEqualTo(256);
    assertThat(BigEndian.u32(b0big, 48)).isEqualTo(1);
    assertThat(BigEndian.u32(b0big, 52)).isEqualTo(1);
  }

  @Test
  void writesAtomicallyAndHonoursFua() {
    byte[] data = pattern(2 * UNIT, 9);
    assertThat(f.lu.dataOutLength(writeAtomic16(UNIT, 2 * UNIT))).isEqualTo(data.length);
    assertGood(f.run(writeAtomic16(UNIT, 2 * UNIT), data));
    assertThat(f.volume.bytes((long) UNIT * BS, data.length)).isEqualTo(data);
    assertThat(f.volume.atomicWrites).isEqualTo(1);
    int fuaBefore = f.volume.fuaWrites;

    byte[] fua = writeAtomic16(0, UNIT);
    fua[1] = 0x18; // DPO + FUA
    assertGood(f.run(fua, pattern(UNIT, 3)));
    assertThat(f.volume.fuaWrites).isEqualTo(fuaBefore + 1);
    assertThat(f.volume.bytes(0, UNIT * BS)).isEqualTo(pattern(UNIT, 3));

    // The largest atomic write, ending at the last block.
    long last = Fixture.BLOCKS - MAX;
    assertGood(f.run(writeAtomic16(last, MAX), pattern(MAX, 4)));
    assertThat(f.volume.bytes(last * BS, MAX * BS)).isEqualTo(pattern(MAX, 4));
    assertGood(f.run(writeAtomic16(0, 0))); // zero blocks: nothing to do
  }

  @Test
  void misalignedOrBadlySizedWritesAreRefused() {
    ScsiResult misaligned = f.run(writeAtomic16(1, UNIT), pattern(UNIT, 1));
    assertSense(misaligned, 5, 0x24, 0);
    assertThat(fieldPointer(misaligned)).isEqualTo(2);

    ScsiResult granularity = f.run(writeAtomic16(0, 1), pattern(1, 1));
    assertSense(granularity, 5, 0x24, 0);
    assertThat(fieldPointer(granularity)).isEqualTo(12);

    ScsiResult tooLong = f.run(writeAtomic16(0, MAX + UNIT), pattern(MAX + UNIT, 1));
    assertSense(tooLong, 5, 0x24, 0);
    assertThat(fieldPointer(tooLong)).isEqualTo(12);
    assertThat(f.volume.atomicWrites).isZero();
    assertThat(f.volume.isAllocated(0)).isFalse();
  }

  @Test
  void outOfRangeIsReportedBeforeTheAtomicLimits() {
    assertSense(f.run(writeAtomic16(Fixture.BLOCKS - UNIT, 2 * UNIT)), 5, 0x21, 0);
    assertSense(f.run(writeAtomic16(Fixture.BLOCKS - UNIT, 2 * MAX)), 5, 0x21, 0);
    assertSense(f.run(writeAtomic16(Long.MIN_VALUE, UNIT)), 5, 0x21, 0);
    assertSense(f.run(writeAtomic16(-UNIT, UNIT)), 5, 0x21, 0);
    assertSense(f.run(writeAtomic16(Fixture.BLOCKS + UNIT, 0)), 5, 0x21, 0);
  }

  @Test
  void reservedFieldsProtectionAndShortDataAreRefused() {
    for (int wrprotect = 1; wrprotect < 8; wrprotect++) {
      byte[] c = writeAtomic16(0, UNIT);
      c[1] = (byte) (wrprotect << 5);
      assertSense(f.run(c, pattern(UNIT, 1)), 5, 0x24, 0);
    }
    byte[] boundary = writeAtomic16(0, UNIT);
    boundary[11] = 1; // ATOMIC BOUNDARY: Duet advertises no boundary support
    assertSense(f.run(boundary, pattern(UNIT, 1)), 5, 0x24, 0);

    assertSense(f.runReadOnly(writeAtomic16(0, UNIT), pattern(UNIT, 1)), 7, 0x27, 0);
    assertSense(f.run(writeAtomic16(0, UNIT), pattern(UNIT - 1, 1)), 5, 0x0e, 3);
    assertThat(f.volume.atomicWrites).isZero();
    assertThat(f.volume.isAllocated(0)).isFalse();
  }

  @Test
  void reservationsAluaAndStoreErrorsApplyAsToWrite() {
    assertGood(f.run(f.nexusB, new byte[] {0x16, 0, 0, 0, 0, 0}, new byte[0])); // RESERVE(6)
    assertThat(f.run(writeAtomic16(0, UNIT), pattern(UNIT, 1)).status())
        .isEqualTo(ScsiResult.RESERVATION_CONFLICT);
    assertGood(f.run(f.nexusB, new byte[] {0x17, 0, 0, 0, 0, 0}, new byte[0])); // RELEASE(6)

    f.alua.setState(1, AluaState.STANDBY);
    f.run(REQUEST_SENSE); // consumes the state change's unit attention, if one is pending
    assertSense(f.run(writeAtomic16(0, UNIT), pattern(UNIT, 1)), 2, 0x04, 0x0b);
    f.alua.setState(1, AluaState.ACTIVE_OPTIMIZED);
    f.run(REQUEST_SENSE);
    assertGood(f.run(writeAtomic16(0, UNIT), pattern(UNIT, 1)));

    f.volume.failWrites = true;
    assertSense(f.run(writeAtomic16(0, UNIT), pattern(UNIT, 1)), 3, 0x0c, 0);
  }

  @Test
  void reportSupportedOperationCodesListsIt() {
    byte[] c = {(byte) 0xa3, 0x0c, 0x01, (byte) 0x9c, 0, 0, 0, 0, 0, (byte) 0xff, 0, 0};
    byte[] d = data(f.run(c));
    assertThat(d[1] & 0x07).isEqualTo(3);
    assertThat(BigEndian.u16(d, 2)).isEqualTo(16);
    assertThat(d[4] & 0xff).isEqualTo(0x9c);
    assertThat(d[5] & 0x18).isEqualTo(0x18); // DPO and FUA, as MODE SENSE's DPOFUA promises
    assertThat(d[5] & 0xe0).isZero(); // no WRPROTECT
  }
}
