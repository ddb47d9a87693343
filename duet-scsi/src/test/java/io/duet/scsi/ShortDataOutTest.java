package io.duet.scsi;

import static io.duet.scsi.Fixture.assertSense;
import static io.duet.scsi.Fixture.cdb;
import static io.duet.scsi.Fixture.rw10;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Commands whose Data-Out the transport cut short (iSCSI EDTL below what the CDB announces) reach
 * the logical unit, which reports write protection and reservation conflicts first and only then
 * 05/0E/03 INVALID FIELD IN COMMAND INFORMATION UNIT.
 */
class ShortDataOutTest {
  final Fixture f = new Fixture();

  static byte[] writeSame10(boolean unmap) {
    byte[] c = rw10(0x41, 0, 1);
    c[1] = (byte) (unmap ? 0x08 : 0);
    return c;
  }

  @Test
  void writeProtectionComesBeforeTheShortfall() {
    assertSense(f.runReadOnly(writeSame10(false), new byte[0]), 7, 0x27, 0);
    assertSense(f.runReadOnly(writeSame10(true), new byte[0]), 7, 0x27, 0);
    byte[] unmap = cdb(0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0);
    assertSense(f.runReadOnly(unmap, new byte[4]), 7, 0x27, 0);
  }

  @Test
  void shortfallOnAWritableUnitIsInvalidFieldInCommandInformationUnit() {
    assertSense(f.run(writeSame10(false), new byte[Fixture.BS / 2]), 5, 0x0e, 0x03);
    assertSense(f.run(writeSame10(true), new byte[0]), 5, 0x0e, 0x03);
    assertSense(f.run(cdb(0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0), new byte[8]), 5, 0x0e, 0x03);
    assertSense(f.run(cdb(0x15, 0x10, 0, 0, 20, 0), new byte[4]), 5, 0x0e, 0x03);
  }

  @Test
  void persistentReserveOutTellsAShortfallFromAShortList() {
    byte[] register = PersistentReservationsTest.proutCdb(0, 0, 24);
    assertSense(f.run(register, new byte[10]), 5, 0x0e, 0x03);
    byte[] shortList = PersistentReservationsTest.proutCdb(0, 0, 10);
    assertSense(f.run(shortList, new byte[10]), 5, 0x1a, 0x00);
  }

  @Test
  void reservationConflictComesBeforeTheShortfall() {
    ItNexus holder = new ItNexus("iqn.holder", "iqn.holder,i,0x1", f.portA);
    byte[] register = ByteBuffer.allocate(24).putLong(8, 5L).array();
    Fixture.assertGood(f.run(holder, PersistentReservationsTest.proutCdb(0, 0, 24), register));
    byte[] reserve = ByteBuffer.allocate(24).putLong(0, 5L).array();
    Fixture.assertGood(
        f.run(
            holder,
            PersistentReservationsTest.proutCdb(1, PersistentReservationsTest.WE, 24),
            reserve));
    ScsiResult r = f.run(writeSame10(false), new byte[3]);
    assertThat(r.status()).isEqualTo(ScsiResult.RESERVATION_CONFLICT);
  }

  @Test
  void randomlyShortenedDataOutNeverEscapes() {
    Random random = new Random(23);
    int[] opcodes = {0x15, 0x55, 0x41, 0x93, 0x42, 0x5f, 0x83, 0x89, 0x8b, 0x2f, 0x2a, 0x2e};
    for (int i = 0; i < 3_000; i++) {
      byte[] c = new byte[16];
      random.nextBytes(c);
      c[0] = (byte) opcodes[random.nextInt(opcodes.length)];
      byte[] out = new byte[random.nextInt(2 * Fixture.BS)];
      random.nextBytes(out);
      int cut = random.nextInt(out.length + 1);
      boolean readOnly = random.nextBoolean();
      byte[] data = Arrays.copyOf(out, cut);
      ScsiResult r = readOnly ? f.runReadOnly(c, data) : f.run(c, data);
      assertThat(r.status())
          .isIn(ScsiResult.GOOD, ScsiResult.CHECK_CONDITION, ScsiResult.RESERVATION_CONFLICT);
      if (r.status() == ScsiResult.CHECK_CONDITION) {
        assertThat(r.sense()[2] & 0x0f).as(Fixture.hex(r.sense())).isNotEqualTo(0x04);
      }
    }
  }
}
