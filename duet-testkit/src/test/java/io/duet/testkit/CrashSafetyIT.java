package io.duet.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Data that was written and flushed, and persistent reservations made with APTPL, survive a {@code
 * kill -9} of the site process.
 */
class CrashSafetyIT {
  private static final String INITIATOR = "iqn.2026-11.io.duet.test:crash";

  /** Logs in, clearing the unit attentions a new nexus gets (power on, reset). */
  private static RawInitiator session(InetSocketAddress portal, String target, long isid)
      throws Exception {
    RawInitiator r = RawInitiator.login(portal, INITIATOR, target, isid);
    for (int i = 0; i < 8; i++) {
      if (r.command(0, Cdbs.testUnitReady(), null, 0).status() == 0) {
        return r;
      }
    }
    throw new AssertionError("unit attentions never cleared");
  }

  @Test
  void flushedWritesAndAptplReservationSurviveKill9() throws Exception {
    Path work = Files.createTempDirectory(Path.of("target"), "crash");
    try (SiteProcess site = SiteProcess.start(work, "site-a")) {
      Admin admin = new Admin(site.api());
      admin.createVolume("v", "64MiB", 512);
      admin.map("v", "*", 0, null, false);
      String target = admin.defaultTarget();
      InetSocketAddress portal = site.portal();

      byte[] pattern = new byte[64 * 512];
      new Random(42).nextBytes(pattern);
      long key = 0x0123456789abcdefL;
      try (RawInitiator s = session(portal, target, 0x400001230001L)) {
        assertThat(s.command(0, Cdbs.write10(100, 64, false), pattern, 0).status()).isZero();
        // A FUA write needs no flush to be durable.
        assertThat(
                s.command(0, Cdbs.write10(1000, 1, true), java.util.Arrays.copyOf(pattern, 512), 0)
                    .status())
            .isZero();
        assertThat(s.command(0, Cdbs.synchronizeCache10(), null, 0).status()).isZero();
        // REGISTER with APTPL, then RESERVE (write exclusive, type 1).
        assertThat(
                s.command(
                        0,
                        Cdbs.persistentReserveOut(0x00, 0),
                        Cdbs.prOutParameters(0, key, true),
                        0)
                    .status())
            .isZero();
        assertThat(
                s.command(
                        0,
                        Cdbs.persistentReserveOut(0x01, 0x01),
                        Cdbs.prOutParameters(key, 0, true),
                        0)
                    .status())
            .isZero();
      }

      site.kill9();
      site.launch();

      try (RawInitiator s = session(site.portal(), target, 0x400001230002L)) {
        RawInitiator.Response read = s.command(0, Cdbs.read10(100, 64), null, pattern.length);
        assertThat(read.status()).isZero();
        assertThat(read.data()).isEqualTo(pattern);
        RawInitiator.Response fua = s.command(0, Cdbs.read10(1000, 1), null, 512);
        assertThat(fua.data()).isEqualTo(java.util.Arrays.copyOf(pattern, 512));

        RawInitiator.Response keys = s.command(0, Cdbs.persistentReserveIn(0x00, 64), null, 64);
        assertThat(keys.status()).isZero();
        int listLength = java.nio.ByteBuffer.wrap(keys.data(), 4, 4).getInt();
        assertThat(listLength).as("one registered key after restart").isEqualTo(8);
        assertThat(Cdbs.getLong(keys.data(), 8)).isEqualTo(key);

        RawInitiator.Response reservation =
            s.command(0, Cdbs.persistentReserveIn(0x01, 64), null, 64);
        assertThat(reservation.status()).isZero();
        assertThat(java.nio.ByteBuffer.wrap(reservation.data(), 4, 4).getInt())
            .as("a reservation is held")
            .isEqualTo(16);
        assertThat(Cdbs.getLong(reservation.data(), 8)).isEqualTo(key);
        assertThat(reservation.data()[21] & 0x0f).as("type write exclusive").isEqualTo(1);
        // This nexus is not the holder: the restored reservation stops its writes.
        assertThat(s.command(0, Cdbs.write10(5, 1, false), new byte[512], 0).status())
            .as("write from a non-holder under a restored write-exclusive reservation")
            .isEqualTo(0x18);
      }
    }
  }
}
