package io.duet.scsi;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The parameter-list parsers (MODE SELECT 6/10, UNMAP) get well-formed CDBs with random and
 * truncated parameter data: every answer is GOOD or an ILLEGAL REQUEST, never a target failure.
 */
class ParameterListFuzzTest {
  @Test
  void randomParameterLists() {
    Fixture f = new Fixture(new RamVolume(512, 1024));
    Random random = new Random(7);
    for (int i = 0; i < 30_000; i++) {
      int kind = random.nextInt(3);
      int length = random.nextInt(kind == 0 ? 256 : 600);
      byte[] params = new byte[length];
      random.nextBytes(params);
      if (length > 8 && random.nextBoolean()) {
        // Plausible headers reach deeper into the parsers.
        params[kind == 1 ? 6 : 3] = 0;
        params[kind == 1 ? 7 : 2] = 0;
      }
      byte[] cdb =
          switch (kind) {
            case 0 -> Fixture.cdb(0x15, 0x10, 0, 0, length, 0);
            case 1 -> Fixture.cdb(0x55, 0x10, 0, 0, 0, 0, 0, length >> 8, length, 0);
            default -> Fixture.cdb(0x42, 0, 0, 0, 0, 0, 0, length >> 8, length, 0);
          };
      byte[] sent = random.nextInt(5) == 0 ? java.util.Arrays.copyOf(params, length / 2) : params;
      ScsiResult r = f.run(cdb, sent);
      if (r.status() != ScsiResult.GOOD) {
        assertThat(r.status()).isEqualTo(ScsiResult.CHECK_CONDITION);
        assertThat(r.sense()[2] & 0x0f).as(Fixture.hex(params)).isEqualTo(Sense.ILLEGAL_REQUEST);
      }
    }
  }

  @Test
  void concurrentWritersAndReadersThroughOneUnit() throws Exception {
    Fixture f = new Fixture(new RamVolume(512, 1024));
    Thread[] threads = new Thread[8];
    java.util.concurrent.atomic.AtomicInteger bad = new java.util.concurrent.atomic.AtomicInteger();
    for (int t = 0; t < threads.length; t++) {
      int id = t;
      threads[t] =
          Thread.ofVirtual()
              .start(
                  () -> {
                    byte[] block = Fixture.pattern(4, id);
                    for (int i = 0; i < 500; i++) {
                      long lba = id * 64L + (i % 16) * 4;
                      if (f.run(Fixture.rw10(0x2a, lba, 4), block).status() != ScsiResult.GOOD) {
                        bad.incrementAndGet();
                      }
                      ScsiResult r = f.run(Fixture.rw10(0x28, lba, 4));
                      if (!java.util.Arrays.equals(Fixture.data(r), block)) {
                        bad.incrementAndGet();
                      }
                    }
                  });
    }
    for (Thread t : threads) {
      t.join();
    }
    assertThat(bad.get()).isZero();
  }
}
