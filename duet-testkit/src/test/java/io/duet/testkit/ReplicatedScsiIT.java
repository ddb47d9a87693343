package io.duet.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * One device seen from both sites (G2): COMPARE AND WRITE sent at the same moment from a host at
 * each site has exactly one winner, a persistent reservation taken at one site binds a host writing
 * at the other, and MODE SELECT of the write cache at one site is what MODE SENSE reports at the
 * other, announced there by a unit attention.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReplicatedScsiIT {
  static final String CG = "scsi";
  static final int BLOCK = 512;
  static final int ROUNDS = 30;

  TwoSites sites;

  @BeforeAll
  void twoSitesWithAGroup() throws Exception {
    sites = TwoSites.start(Files.createTempDirectory(Path.of("target"), "replicated-scsi"));
    sites.createVolume("caw", "16MiB");
    sites.createVolume("pr", "16MiB");
    sites.createVolume("wce", "16MiB");
    sites.createCg(CG, List.of("caw", "pr", "wce"), "200MiB");
    sites.mapEverywhere("caw", 0);
    sites.mapEverywhere("pr", 1);
    sites.mapEverywhere("wce", 2);
  }

  @AfterAll
  void stop() throws Exception {
    if (sites != null) {
      sites.close();
    }
  }

  RawInitiator session(SiteProcess site, String initiator, long isid) throws IOException {
    RawInitiator s =
        RawInitiator.login(
            sites.portal(site), "iqn.2026-11.io.duet.test:" + initiator, sites.target(site), isid);
    WriteChecker.clearUnitAttentions(s);
    return s;
  }

  /** Sends a command again while it meets a unit attention (which means it did not run). */
  static RawInitiator.Response run(RawInitiator s, int lun, byte[] cdb, byte[] out, int in)
      throws IOException {
    RawInitiator.Response r = s.command(lun, cdb, out, in);
    for (int i = 0; i < 8 && r.status() == 2 && r.senseKey() == 6; i++) {
      r = s.command(lun, cdb, out, in);
    }
    return r;
  }

  static byte[] block(String text) {
    byte[] b = new byte[BLOCK];
    byte[] t = text.getBytes(StandardCharsets.US_ASCII);
    for (int i = 0; i < BLOCK; i++) {
      b[i] = t[i % t.length];
    }
    return b;
  }

  static byte[] concat(byte[] a, byte[] b) {
    byte[] c = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, c, a.length, b.length);
    return c;
  }

  @Test
  void compareAndWriteFromBothSitesHasExactlyOneWinnerEachRound() throws Exception {
    long lba = 1000;
    try (RawInitiator atA = session(sites.a(), "caw-a", 0x400000400001L);
        RawInitiator atB = session(sites.b(), "caw-b", 0x400000400002L);
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      byte[] current = block("round 0 ");
      assertThat(run(atA, 0, Cdbs.write10(lba, 1, false), current, 0).status()).isZero();
      CyclicBarrier together = new CyclicBarrier(2);
      for (int round = 1; round <= ROUNDS; round++) {
        byte[] fromA = block("round " + round + " site-a ");
        byte[] fromB = block("round " + round + " site-b ");
        byte[] compare = current;
        Future<RawInitiator.Response> a =
            pool.submit(
                () -> {
                  together.await();
                  return run(atA, 0, Cdbs.compareAndWrite(lba, 1), concat(compare, fromA), 0);
                });
        Future<RawInitiator.Response> b =
            pool.submit(
                () -> {
                  together.await();
                  return run(atB, 0, Cdbs.compareAndWrite(lba, 1), concat(compare, fromB), 0);
                });
        RawInitiator.Response ra = a.get();
        RawInitiator.Response rb = b.get();
        assertThat((ra.status() == 0 ? 1 : 0) + (rb.status() == 0 ? 1 : 0))
            .as("winners in round %d (A: %s, B: %s)", round, describe(ra), describe(rb))
            .isEqualTo(1);
        RawInitiator.Response loser = ra.status() == 0 ? rb : ra;
        assertThat(describe(loser)).as("the loser of round %d", round).isEqualTo("02 e/1d/00");
        current = ra.status() == 0 ? fromA : fromB;
        for (RawInitiator s : List.of(atA, atB)) {
          RawInitiator.Response read = run(s, 0, Cdbs.read10(lba, 1), null, BLOCK);
          assertThat(read.data())
              .as("round %d winner visible at both sites", round)
              .isEqualTo(current);
        }
      }
    }
  }

  @Test
  void writeExclusiveReservationAtOneSiteBlocksAWriterAtTheOther() throws Exception {
    long key = 0x0a0a0a0a0a0a0a0aL;
    try (RawInitiator holder = session(sites.a(), "pr-holder", 0x400000500001L);
        RawInitiator other = session(sites.b(), "pr-other", 0x400000500002L)) {
      assertThat(prOut(holder, 0x00, 0, 0, key)).as("REGISTER at site A").isZero();
      assertThat(prOut(holder, 0x01, 0x01, key, 0))
          .as("RESERVE write exclusive at site A")
          .isZero();

      RawInitiator.Response write = run(other, 1, Cdbs.write10(8, 1, false), new byte[BLOCK], 0);
      assertThat(write.status()).as("write at site B from a non-holder").isEqualTo(0x18);
      assertThat(run(other, 1, Cdbs.read10(8, 1), null, BLOCK).status())
          .as("reads stay allowed under write exclusive")
          .isZero();
      RawInitiator.Response reservation =
          run(other, 1, Cdbs.persistentReserveIn(0x01, 64), null, 64);
      assertThat(reservation.status()).isZero();
      assertThat(Cdbs.getLong(reservation.data(), 8))
          .as("site B reports A's reservation key")
          .isEqualTo(key);
      assertThat(reservation.data()[21] & 0x0f).as("type write exclusive").isEqualTo(1);
      assertThat(run(holder, 1, Cdbs.write10(8, 1, false), block("holder "), 0).status())
          .as("the holder writes")
          .isZero();

      assertThat(prOut(holder, 0x03, 0, key, 0)).as("CLEAR").isZero();
      assertThat(run(other, 1, Cdbs.write10(8, 1, false), new byte[BLOCK], 0).status())
          .as("write at site B once the reservation is cleared")
          .isZero();
    }
  }

  @Test
  void writeCacheSetAtOneSiteIsWhatTheOtherReportsAfterAUnitAttention() throws Exception {
    int lun = 2;
    try (RawInitiator atA = session(sites.a(), "wce-a", 0x400000600001L);
        RawInitiator atB = session(sites.b(), "wce-b", 0x400000600002L)) {
      clearUnitAttentions(atA, lun);
      clearUnitAttentions(atB, lun);
      assertThat(wce(atB, lun)).as("WCE at site B before").isTrue();

      byte[] off = Cdbs.cachingPage(false);
      assertThat(describe(atA.command(lun, Cdbs.modeSelect6(off.length), off, 0)))
          .as("MODE SELECT WCE=0 at site A")
          .isEqualTo("00");
      assertThat(describe(atB.command(lun, Cdbs.testUnitReady(), null, 0)))
          .as("site B's next command")
          .isEqualTo("02 6/2a/01");
      assertThat(wce(atB, lun)).as("WCE at site B").isFalse();
      assertThat(describe(atA.command(lun, Cdbs.testUnitReady(), null, 0)))
          .as("the issuer is told nothing")
          .isEqualTo("00");

      byte[] on = Cdbs.cachingPage(true);
      assertThat(describe(atB.command(lun, Cdbs.modeSelect6(on.length), on, 0)))
          .as("MODE SELECT WCE=1 at site B")
          .isEqualTo("00");
      assertThat(describe(atA.command(lun, Cdbs.testUnitReady(), null, 0)))
          .as("site A's next command")
          .isEqualTo("02 6/2a/01");
      assertThat(wce(atA, lun)).as("WCE at site A").isTrue();
    }
  }

  /** WCE as MODE SENSE reports it on {@code lun}. */
  static boolean wce(RawInitiator s, int lun) throws IOException {
    RawInitiator.Response r = s.command(lun, Cdbs.modeSenseCaching(64), null, 64);
    assertThat(describe(r)).as("MODE SENSE").isEqualTo("00");
    return (r.data()[4 + 2] & 0x04) != 0;
  }

  /** Takes every pending unit attention of the session's nexus to {@code lun}. */
  static void clearUnitAttentions(RawInitiator s, int lun) throws IOException {
    for (int i = 0; i < 8; i++) {
      RawInitiator.Response r = s.command(lun, Cdbs.testUnitReady(), null, 0);
      if (r.status() == 0) {
        return;
      }
      assertThat(r.senseKey()).as("TEST UNIT READY: %s", describe(r)).isEqualTo(6);
    }
    throw new AssertionError("unit attentions never cleared on LUN " + lun);
  }

  /** PERSISTENT RESERVE OUT to LUN 1 (no APTPL); returns the status. */
  static int prOut(RawInitiator s, int serviceAction, int type, long key, long serviceActionKey)
      throws IOException {
    return run(
            s,
            1,
            Cdbs.persistentReserveOut(serviceAction, type),
            Cdbs.prOutParameters(key, serviceActionKey, false),
            0)
        .status();
  }

  private static String describe(RawInitiator.Response r) {
    return String.format("%02x %x/%02x/%02x", r.status(), r.senseKey(), r.asc(), r.ascq())
        .replace("00 0/00/00", "00");
  }
}
