package io.duet.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A leader killed during a group's initial synchronization (replication.md G1, G4): the group's
 * record must never exist at a site before the marks of what the initial sync has to copy are
 * durable, or the restarted leader resyncs too little and reports the group in sync while the peer
 * holds zeros.
 */
class InitialSyncCrashIT {
  private static final String INITIATOR = "iqn.2026-11.io.duet.test:initial-sync";

  /** 4096 regions of 64 KiB; one written block in each makes 4096 separate allocated extents. */
  private static final int REGIONS = 4096;

  private static final int REGION_BLOCKS = 128; // 64 KiB of 512 B blocks

  @Test
  void leaderKilledAsTheGroupIsRecordedLosesNothingOfAFragmentedVolume() throws Exception {
    Path work = Files.createTempDirectory(Path.of("target"), "initial-sync");
    try (TwoSites sites = TwoSites.start(work)) {
      sites.createVolume("vol1", "256MiB");
      map(sites.a());
      try (RawInitiator s = session(sites.a())) {
        for (int r = 0; r < REGIONS; r++) {
          assertThat(s.command(0, Cdbs.write10(lba(r), 1, false), block(r), 0).status()).isZero();
        }
        assertThat(s.command(0, Cdbs.synchronizeCache10(), null, 0).status()).isZero();
      }

      java.util.concurrent.atomic.AtomicReference<IOException> createFailed =
          new java.util.concurrent.atomic.AtomicReference<>();
      Thread create =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      sites
                          .a()
                          .api()
                          .post(
                              "/api/v1/cgs",
                              "{\"name\":\"cg1\",\"policy\":\"active-active\",\"peer\":\""
                                  + TwoSites.B
                                  + "\",\"volumes\":[\"vol1\"],\"resyncRate\":\"256MiB\"}");
                    } catch (IOException e) {
                      createFailed.set(e); // expected once the leader dies under the request
                    }
                  });
      awaitRecorded(sites.a().dataDir().resolve("cgs.state"), "cg1", createFailed);
      sites.kill9(sites.a());
      create.join(TimeUnit.SECONDS.toMillis(60));

      sites.restart(sites.a());
      sites.awaitLinkUp();
      sites.awaitInSync("cg1", Duration.ofSeconds(120));
      JsonNode verify = sites.verify("cg1");
      assertThat(verify.path("regionsCompared").asLong()).isPositive();
      assertThat(verify.path("differingRegions").size())
          .as("regions that differ between the sites after the group reported in sync")
          .isZero();
      map(sites.b());
      try (RawInitiator atA = session(sites.a());
          RawInitiator atB = session(sites.b())) {
        for (int r = 0; r < REGIONS; r++) {
          byte[] a = atA.command(0, Cdbs.read10(lba(r), 1), null, 512).data();
          byte[] b = atB.command(0, Cdbs.read10(lba(r), 1), null, 512).data();
          assertThat(a).as("region %d at A", r).isEqualTo(block(r));
          assertThat(b).as("region %d at B", r).isEqualTo(a);
        }
      }
    }
  }

  /**
   * Polls without pause until the site's group file names {@code group}: the kill must land right
   * after the record is durable, before anything the site does next.
   */
  private static void awaitRecorded(
      Path file, String group, java.util.concurrent.atomic.AtomicReference<IOException> failed)
      throws IOException {
    byte[] name = ("\"" + group + "\"").getBytes(StandardCharsets.US_ASCII);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      try {
        if (contains(Files.readAllBytes(file), name)) {
          return;
        }
      } catch (NoSuchFileException notYet) {
        // the site has no group file until its first group
      }
      if (failed.get() != null) {
        throw new AssertionError("creating " + group + " failed", failed.get());
      }
      Thread.onSpinWait();
    }
    throw new AssertionError(file + " never recorded " + group);
  }

  private static boolean contains(byte[] haystack, byte[] needle) {
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      if (Arrays.equals(haystack, i, i + needle.length, needle, 0, needle.length)) {
        return true;
      }
    }
    return false;
  }

  private static long lba(int region) {
    return (long) region * REGION_BLOCKS + 7;
  }

  private static byte[] block(int region) {
    byte[] b = new byte[512];
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) (region * 131 + i * 7 + 1);
    }
    return b;
  }

  private static void map(SiteProcess site) throws IOException {
    site.api().post("/api/v1/mappings", "{\"volume\":\"vol1\",\"host\":\"*\",\"lun\":0}");
  }

  /** Logs in, clearing the unit attentions a new nexus gets. */
  private static RawInitiator session(SiteProcess site) throws Exception {
    InetSocketAddress portal = site.portal();
    JsonNode targets = site.api().get("/api/v1/targets");
    JsonNode list = targets.isArray() ? targets : targets.get("targets");
    RawInitiator r =
        RawInitiator.login(portal, INITIATOR, list.get(0).get("name").asText(), 0x400001230077L);
    for (int i = 0; i < 8; i++) {
      if (r.command(0, Cdbs.testUnitReady(), null, 0).status() == 0) {
        return r;
      }
    }
    throw new AssertionError("unit attentions never cleared");
  }
}
