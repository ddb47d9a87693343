package io.duet.scsi;

import static io.duet.scsi.Fixture.assertGood;
import static io.duet.scsi.Fixture.assertSense;
import static io.duet.scsi.Fixture.cdb;
import static io.duet.scsi.Fixture.pattern;
import static io.duet.scsi.Fixture.rw10;
import static io.duet.scsi.Fixture.rw16;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A volume that must not be served at this site (VolumeUnavailableException) answers every
 * medium-touching command with 02/04/0C, never a MEDIUM ERROR a host would fail the I/O on.
 */
class UnavailableVolumeTest {
  private final Fixture f = new Fixture();

  @BeforeEach
  void turnUnavailable() {
    f.volume.unavailable = true;
  }

  private void assertUnavailable(ScsiResult r) {
    assertSense(r, Sense.NOT_READY, 0x04, 0x0c);
  }

  @Test
  void readsWritesAndCacheSync() {
    assertUnavailable(f.run(rw10(0x28, 0, 1)));
    assertUnavailable(f.run(rw16(0x88, 0, 1)));
    assertUnavailable(f.run(rw10(0x2a, 0, 1), pattern(1, 0)));
    assertUnavailable(f.run(rw16(0x8a, 0, 2), pattern(2, 0)));
    assertUnavailable(f.run(rw10(0x2e, 0, 1), pattern(1, 0))); // WRITE AND VERIFY
    assertUnavailable(f.run(rw10(0x2f, 0, 1))); // VERIFY, BYTCHK 0
    assertUnavailable(f.run(rw10(0x35, 0, 0))); // SYNCHRONIZE CACHE
  }

  @Test
  void compareAndWriteAndAtomicWrite() {
    byte[] caw = rw16(0x89, 0, 0);
    caw[13] = 1;
    assertUnavailable(f.run(caw, pattern(2, 0)));
    assertUnavailable(f.run(WriteAtomicTest.writeAtomic16(0, 8), pattern(8, 0)));
  }

  @Test
  void provisioningCommands() {
    byte[] writeSame = rw16(0x93, 0, 4);
    assertUnavailable(f.run(writeSame, pattern(1, 0)));
    byte[] unmapSame = rw16(0x93, 0, 4);
    unmapSame[1] = 0x08;
    assertUnavailable(f.run(unmapSame, new byte[Fixture.BS]));
    byte[] list = new byte[24];
    BigEndian.put16(list, 0, 22);
    BigEndian.put16(list, 2, 16);
    BigEndian.put32(list, 16, 1);
    assertUnavailable(f.run(cdb(0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0), list));
  }

  @Test
  void commandsWithoutMediumAccessStillWork() {
    assertGood(f.run(cdb(0, 0, 0, 0, 0, 0)));
    assertGood(f.run(Fixture.inquiry(false, 0, 36)));
    assertGood(f.run(cdb(0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0)));
  }

  @Test
  void theSameVolumeServesAgainWhenAvailable() {
    assertUnavailable(f.run(rw10(0x2a, 0, 1), pattern(1, 5)));
    f.volume.unavailable = false;
    assertGood(f.run(rw10(0x2a, 0, 1), pattern(1, 5)));
    assertGood(f.run(rw10(0x28, 0, 1)));
  }
}
