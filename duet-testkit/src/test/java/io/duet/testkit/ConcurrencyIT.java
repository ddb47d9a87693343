package io.duet.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Many sessions at once through two portals, two LUNs on one target: every session's data reads
 * back intact, and REPORT LUNS shows both LUNs.
 */
class ConcurrencyIT {
  private static final int SESSIONS = 48;
  private static final int BLOCKS_PER_SESSION = 64;

  @Test
  void manySessionsOnTwoPortalsKeepTheirData() throws Exception {
    try (SiteProcess site =
        SiteProcess.start(Files.createTempDirectory(Path.of("target"), "concurrency"), "site-a")) {
      DuetApi api = site.api();
      Admin admin = new Admin(api);
      admin.createVolume("lun0", "64MiB", 512);
      admin.createVolume("lun1", "64MiB", 4096);
      admin.map("lun0", "*", 0, null, false);
      admin.map("lun1", "*", 1, null, false);
      int port;
      try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
        port = s.getLocalPort();
      }
      api.post("/api/v1/portals", "{\"address\":\"127.0.0.1:" + port + "\"}");
      List<InetSocketAddress> portals =
          List.of(site.portal(), new InetSocketAddress("127.0.0.1", port));
      String target = admin.defaultTarget();

      try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
        List<Future<?>> done = new ArrayList<>();
        for (int i = 0; i < SESSIONS; i++) {
          int session = i;
          done.add(pool.submit(() -> exercise(portals.get(session % 2), target, session)));
        }
        for (Future<?> f : done) {
          f.get();
        }
      }

      try (RawInitiator s =
          RawInitiator.login(
              portals.get(1), "iqn.2026-11.io.duet.test:luns", target, 0x400000009999L)) {
        byte[] reportLuns = {(byte) 0xa0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0};
        RawInitiator.Response r = s.command(0, reportLuns, null, 256);
        if (r.senseKey() == 6) {
          r = s.command(0, reportLuns, null, 256);
        }
        assertThat(r.status()).isZero();
        assertThat(ByteBuffer.wrap(r.data()).getInt(0))
            .as("LUN list length: two LUNs")
            .isEqualTo(16);
      }
    }
  }

  /** One session: writes its own region of LUN 0 (and LUN 1), reads it back, compares. */
  private static Void exercise(InetSocketAddress portal, String target, int session)
      throws Exception {
    String initiator = "iqn.2026-11.io.duet.test:concurrency-" + session;
    try (RawInitiator s =
        RawInitiator.login(portal, initiator, target, 0x400000100000L + session)) {
      int attempts = 0;
      while (s.command(0, Cdbs.testUnitReady(), null, 0).status() != 0) {
        // clear the power-on unit attention of this new nexus
        assertThat(++attempts).as("TEST UNIT READY attempts").isLessThan(8);
      }
      Random random = new Random(session);
      for (int round = 0; round < 8; round++) {
        byte[] data = new byte[BLOCKS_PER_SESSION * 512];
        random.nextBytes(data);
        long lba = (long) session * BLOCKS_PER_SESSION;
        assertThat(s.command(0, Cdbs.write10(lba, BLOCKS_PER_SESSION, false), data, 0).status())
            .isZero();
        RawInitiator.Response r =
            s.command(0, Cdbs.read10(lba, BLOCKS_PER_SESSION), null, data.length);
        assertThat(r.status()).isZero();
        assertThat(r.data()).as("session %d round %d", session, round).isEqualTo(data);
      }
      byte[] block = new byte[4096];
      random.nextBytes(block);
      RawInitiator.Response w = s.command(1, Cdbs.write10(session, 1, true), block, 0);
      for (int i = 0; i < 8 && w.status() == 2 && w.senseKey() == 6; i++) {
        w = s.command(1, Cdbs.write10(session, 1, true), block, 0);
      }
      assertThat(w.status()).isZero();
      assertThat(s.command(1, Cdbs.read10(session, 1), null, 4096).data()).isEqualTo(block);
      s.logout();
    }
    return null;
  }
}
