package io.duet.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Malformed, truncated and oversized PDUs, random bytes and random CDBs, fed to a site process:
 * each gets a clear reject (or only its own connection closed), while a good session keeps working
 * and the process's memory stays bounded.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HostileInputIT {
  private static final String INITIATOR = "iqn.2026-11.io.duet.test:hostile";
  private SiteProcess site;
  private String target;
  private InetSocketAddress portal;
  private RawInitiator good;

  @BeforeAll
  void start() throws Exception {
    site = SiteProcess.start(Files.createTempDirectory(Path.of("target"), "hostile"), "site-a");
    Admin admin = new Admin(site.api());
    admin.createVolume("v", "64MiB", 512);
    admin.map("v", "*", 0, null, false);
    target = admin.defaultTarget();
    portal = site.portal();
    good = RawInitiator.login(portal, INITIATOR, target, 0x400000000001L);
  }

  @AfterAll
  void stop() throws Exception {
    if (good != null) {
      good.close();
    }
    if (site != null) {
      site.close();
    }
  }

  /** The good session still reads and writes after whatever the attacker did. */
  private void assertGoodSessionServes() throws IOException {
    byte[] block = new byte[512];
    new Random().nextBytes(block);
    RawInitiator.Response w = good.command(0, Cdbs.write10(7, 1, false), block, 0);
    if (w.status() == 0x02 && w.senseKey() == 6) { // a pending unit attention; retry once
      w = good.command(0, Cdbs.write10(7, 1, false), block, 0);
    }
    assertThat(w.status()).isZero();
    RawInitiator.Response r = good.command(0, Cdbs.read10(7, 1), null, 512);
    assertThat(r.data()).isEqualTo(block);
    assertThat(site.isAlive()).isTrue();
  }

  @Test
  void randomBytesBeforeLoginCloseOnlyThatConnection() throws Exception {
    Random random = new Random(7);
    for (int i = 0; i < 50; i++) {
      try (RawInitiator bad = RawInitiator.connect(portal)) {
        byte[] junk = new byte[48 + random.nextInt(4096)];
        random.nextBytes(junk);
        if ((junk[0] & 0x3f) == 0x03) {
          junk[0] = 0x05; // anything but a login request: the first PDU must be one
        }
        // No AHS: a target may rightly wait for AHS bytes a header promised before judging it.
        junk[4] = 0;
        try {
          bad.sendRaw(junk);
        } catch (IOException e) {
          // the target may already have closed; that is an acceptable answer
        }
        assertThat(bad.closedByTarget(10_000))
            .as("target closes a connection whose first PDU is not a login")
            .isTrue();
      }
    }
    assertGoodSessionServes();
  }

  @Test
  void oversizedDataSegmentIsRefusedWithoutAllocatingIt() throws Exception {
    for (int i = 0; i < 20; i++) {
      try (RawInitiator bad = RawInitiator.connect(portal)) {
        byte[] hdr = new byte[48];
        hdr[0] = 0x43; // login request
        hdr[1] = (byte) 0x81;
        hdr[5] = (byte) 0xff; // 16 MiB - 1 of data segment, far beyond any negotiated limit
        hdr[6] = (byte) 0xff;
        hdr[7] = (byte) 0xff;
        bad.sendRaw(hdr);
        bad.sendRaw(new byte[1024]);
        assertThat(bad.closedByTarget(10_000))
            .as("target closes a connection announcing 16 MiB of login data")
            .isTrue();
      }
    }
    assertGoodSessionServes();
  }

  @Test
  void malformedPdusInFullFeaturePhaseGetRejectOrClose() throws Exception {
    Random random = new Random(11);
    for (int i = 0; i < 30; i++) {
      try (RawInitiator s = RawInitiator.login(portal, INITIATOR, target, 0x400000001000L + i)) {
        byte[] hdr = new byte[48];
        random.nextBytes(hdr);
        hdr[4] = 0; // no AHS, keep the framing parseable so the target has to judge the fields
        hdr[5] = 0;
        hdr[6] = 0;
        hdr[7] = 0;
        if (i % 3 == 0) {
          hdr[0] = (byte) 0x1c; // an opcode no initiator may send
        }
        try {
          s.sendRaw(hdr);
          RawInitiator.Pdu answer = s.readPdu();
          assertThat(answer.opcode())
              .as("answer to a malformed PDU")
              .isIn(0x3f, 0x21, 0x26, 0x20, 0x25, 0x22);
        } catch (IOException closed) {
          // closing this one connection is an acceptable answer to a protocol error
        }
      }
    }
    assertGoodSessionServes();
  }

  @Test
  void randomCdbsAllGetAStatusAndTheConnectionStays() throws Exception {
    Random random = new Random(3);
    try (RawInitiator s = RawInitiator.login(portal, INITIATOR, target, 0x400000002000L)) {
      for (int i = 0; i < 2000; i++) {
        byte[] cdb = new byte[16];
        random.nextBytes(cdb);
        if (isDangerous(cdb[0] & 0xff)) {
          continue;
        }
        RawInitiator.Response r = s.command(0, cdb, null, 4096);
        assertThat(r.status())
            .as("status for CDB opcode 0x%02x", cdb[0] & 0xff)
            .isIn(0x00, 0x02, 0x18);
      }
      // an unknown opcode is CHECK CONDITION 05/20/00, never a dropped connection
      RawInitiator.Response unknown =
          s.command(0, new byte[] {(byte) 0xc7, 0, 0, 0, 0, 0}, null, 0);
      if (unknown.senseKey() == 6) {
        unknown = s.command(0, new byte[] {(byte) 0xc7, 0, 0, 0, 0, 0}, null, 0);
      }
      assertThat(unknown.status()).isEqualTo(0x02);
      assertThat(unknown.senseKey()).isEqualTo(0x05);
      assertThat(unknown.asc()).isEqualTo(0x20);
    }
    assertGoodSessionServes();
  }

  /**
   * Opcodes a random CDB must not hit in this test because they legitimately change the device for
   * other sessions (reservations, resets, format) or need Data-Out this test does not send.
   */
  private static boolean isDangerous(int opcode) {
    return switch (opcode) {
      case 0x04, 0x16, 0x56, 0x5f, 0xa4, 0x55, 0x15, 0x48, 0x83, 0x8e, 0x41, 0x93, 0x42 -> true;
      default -> false;
    };
  }

  @Test
  void memoryStaysBoundedUnderManyHostileConnections() throws Exception {
    long before = rssKiB();
    Random random = new Random(5);
    for (int i = 0; i < 200; i++) {
      try (RawInitiator bad = RawInitiator.connect(portal)) {
        byte[] hdr = new byte[48];
        random.nextBytes(hdr);
        hdr[5] = (byte) 0x7f; // large claimed data segment
        bad.sendRaw(hdr);
      } catch (IOException e) {
        // closed early: fine
      }
    }
    assertGoodSessionServes();
    long after = rssKiB();
    assertThat(after - before)
        .as("RSS growth in KiB after 200 hostile connections")
        .isLessThan(256 * 1024);
  }

  private long rssKiB() throws IOException {
    // The site's heap is capped at 512 MiB by SiteProcess; RSS must stay near it.
    long pid = site.pid();
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    throw new IOException("no VmRSS for " + pid);
  }
}
