package io.duet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The resync progress line: bar, percent, rate and ETA, including odd inputs. */
class ResyncProgressTest {
  @Test
  void halfway() {
    assertThat(ResyncProgress.line(512L << 20, 1L << 30, 118_300_000, 5))
        .isEqualTo(
            "[###############---------------]  50.0%  118.3 MB/s  ETA 0:00:05  (512 MiB of 1 GiB)");
  }

  @Test
  void unknownRateAndEta() {
    assertThat(ResyncProgress.line(0, 1L << 20, -1, -1))
        .isEqualTo("[------------------------------]   0.0%  -- MB/s  ETA --:--  (0 B of 1 MiB)");
  }

  @Test
  void nothingToCopyIsComplete() {
    assertThat(ResyncProgress.line(0, 0, -1, 0)).contains("100.0%", "#".repeat(30), "ETA 0:00:00");
  }

  @Test
  void longEta() {
    assertThat(ResyncProgress.eta(3 * 3600 + 25 * 60 + 7)).isEqualTo("3:25:07");
  }

  @Test
  void impliedRate() {
    assertThat(ResyncProgress.impliedRate(0, 1000, 10)).isEqualTo(100.0);
    assertThat(ResyncProgress.impliedRate(1000, 1000, 10)).isEqualTo(-1);
    assertThat(ResyncProgress.impliedRate(0, 1000, -1)).isEqualTo(-1);
  }

  @Test
  void anyNumbersAServerSendsRenderWithinTheBar() {
    Random random = new Random(7);
    for (int i = 0; i < 10_000; i++) {
      long done = random.nextLong();
      long total = random.nextInt(4) == 0 ? random.nextLong() : Math.abs(random.nextLong() >> 4);
      double rate = random.nextInt(5) == 0 ? Double.NaN : random.nextDouble() * 1e10 - 1e9;
      long eta = random.nextLong();
      String line = ResyncProgress.line(done, total, rate, eta);
      assertThat(line).startsWith("[").contains("%", "MB/s", "ETA");
      assertThat(line.substring(1, 31)).matches("#*-*");
    }
  }
}
