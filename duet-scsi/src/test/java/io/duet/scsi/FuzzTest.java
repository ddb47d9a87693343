package io.duet.scsi;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Random and mutated CDBs must never escape as exceptions and must always yield a status. */
class FuzzTest {
  private static final Set<Integer> STATUSES =
      Set.of(
          ScsiResult.GOOD,
          ScsiResult.CHECK_CONDITION,
          ScsiResult.BUSY,
          ScsiResult.RESERVATION_CONFLICT);

  @Test
  void randomCdbsOnEveryOpcode() {
    Fixture f = new Fixture(new RamVolume(512, 2048));
    Random random = new Random(0x5eed);
    for (int op = 0; op < 256; op++) {
      for (int i = 0; i < 120; i++) {
        byte[] cdb = new byte[random.nextInt(33)];
        random.nextBytes(cdb);
        if (cdb.length > 0) {
          cdb[0] = (byte) op;
        }
        exercise(f, random, cdb);
      }
    }
  }

  @Test
  void mutatedValidCdbs() {
    Fixture f = new Fixture(new RamVolume(512, 2048));
    Random random = new Random(42);
    byte[][] seeds = {
      Fixture.rw10(0x28, 1, 2),
      Fixture.rw16(0x8a, 3, 1),
      Fixture.rw10(0x41, 0, 4),
      Fixture.inquiry(true, 0x83, 255),
      Fixture.cdb(0x1a, 0, 0x3f, 0, 255, 0),
      Fixture.cdb(0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0),
      Fixture.cdb(0x15, 0x10, 0, 0, 24, 0),
      Fixture.cdb(0xa3, 0x0c, 0x80, 0, 0, 0, 0, 0, 1, 0, 0, 0),
      Fixture.cdb(0x9e, 0x12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 64, 0, 0),
      Fixture.cdb(0xa0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0)
    };
    for (int i = 0; i < 20_000; i++) {
      byte[] cdb = seeds[random.nextInt(seeds.length)].clone();
      int flips = 1 + random.nextInt(3);
      for (int k = 0; k < flips; k++) {
        cdb[1 + random.nextInt(cdb.length - 1)] ^= (byte) (1 << random.nextInt(8));
      }
      exercise(f, random, cdb);
    }
  }

  private static void exercise(Fixture f, Random random, byte[] cdb) {
    int want = f.lu.dataOutLength(cdb);
    assertThat(want).isGreaterThanOrEqualTo(-1);
    int size = want > 0 ? Math.min(want, 1 << 16) : random.nextInt(64);
    byte[] out = new byte[random.nextBoolean() ? size : random.nextInt(size + 1)];
    random.nextBytes(out);
    ScsiResult r =
        f.lu.execute(
            new ScsiTask(f.nexus, cdb, ByteBuffer.wrap(out), 1 << 20, random.nextInt(8) == 0, 1));
    assertThat(r).isNotNull();
    assertThat(STATUSES).contains(r.status());
    if (r.status() == ScsiResult.CHECK_CONDITION) {
      assertThat(r.sense().length).isGreaterThanOrEqualTo(18);
      assertThat(r.sense()[2] & 0x0f)
          .as("no internal failure for %s", Fixture.hex(cdb))
          .isNotEqualTo(Sense.HARDWARE_ERROR);
    }
    assertThat(r.dataIn().remaining()).isLessThanOrEqualTo(BlockLimits.MAX_TRANSFER_BYTES);
  }
}
