package io.duet.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.duet.sync.dirty.ActivityLogFile;
import io.duet.testkit.LoadWriter.Outcome;
import io.duet.testkit.proxy.Direction;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Faults under load on an active/active group between two site processes, with a writer at each
 * site (G1, G3, G4 of replication.md): no acknowledged write is lost, the follower serves nothing
 * while it may be stale, the resync copies only regions that may differ, and {@code verify} finds
 * the sites identical afterwards.
 */
class ReplicationFaultIT {
  static final String CG = "cg1";
  static final String VOLUME = "vol1";
  static final long VOLUME_BYTES = 64L << 20;

  /** Each writer owns 8 MiB (128 regions of 64 KiB) of the 64 MiB volume. */
  static final int WRITER_SLOTS = 2048;

  static final Duration FAULT_TIMEOUT = Duration.ofSeconds(30);
  static final Duration RESYNC_TIMEOUT = Duration.ofSeconds(60);

  TwoSites sites;
  LoadWriter atA;
  LoadWriter atB;

  @BeforeEach
  void twoSitesWithAGroup() throws Exception {
    sites = TwoSites.start(Files.createTempDirectory(Path.of("target"), "replication"));
    sites.createVolume(VOLUME, "64MiB");
    // Slow enough that a resync is seen in progress, fast enough to end in a second or two. Set
    // at creation: a later change of settings restarts the group's session (and resyncs).
    sites.createCg(CG, List.of(VOLUME), "8MiB");
    sites.mapEverywhere(VOLUME, 0);
    atA = new LoadWriter(1, sites.portal(sites.a()), sites.target(sites.a()), 0, WRITER_SLOTS);
    atB =
        new LoadWriter(
            2, sites.portal(sites.b()), sites.target(sites.b()), WRITER_SLOTS, WRITER_SLOTS);
  }

  @AfterEach
  void stop() throws Exception {
    try {
      if (atA != null) {
        atA.close();
      }
      if (atB != null) {
        atB.close();
      }
    } finally {
      if (sites != null) {
        sites.close();
      }
    }
  }

  @Test
  void linkCutUnderLoadLosesNothingAndResyncsOnlyDirtyRegions() throws Exception {
    startLoad();

    long cut = System.nanoTime();
    sites.link().blackhole(Direction.UPSTREAM, Direction.DOWNSTREAM);
    sites.awaitCg(
        sites.b(),
        CG,
        "follower unavailable",
        FAULT_TIMEOUT,
        v -> v.path("availability").asText().equals("UNAVAILABLE"));
    awaitLeaderServingAlone();
    atA.awaitMoreAcks(100, 30);
    awaitFollowerRefusingWrites();

    sites.link().heal();
    long resyncBytes = sites.awaitInSyncWatchingResync(CG, RESYNC_TIMEOUT);
    long end = System.nanoTime();
    atA.close();
    atB.close();

    List<LoadWriter.Attempt> window = new ArrayList<>(atA.during(cut, end));
    window.addAll(atB.during(cut, end));
    long dirtyBound = WriteChecker.regions(window).size() * (long) WriteChecker.REGION_BYTES;
    assertThat(resyncBytes)
        .as("resync bytes vs the regions written from the cut to in-sync (%d bytes)", dirtyBound)
        .isPositive()
        .isLessThanOrEqualTo(dirtyBound);
    assertIdenticalAndNothingLost();
  }

  @Test
  void kill9OfTheFollowerUnderLoad() throws Exception {
    startLoad();

    sites.kill9(sites.b());
    awaitLeaderServingAlone();
    atA.awaitMoreAcks(100, 30);

    sites.restart(sites.b());
    long resyncBytes = sites.awaitInSyncWatchingResync(CG, RESYNC_TIMEOUT);
    atA.close();
    atB.close();
    assertThat(resyncBytes).as("the leader wrote while the follower was down").isPositive();
    assertResyncWithinWrittenRegions(resyncBytes);
    assertIdenticalAndNothingLost();
  }

  @Test
  void kill9OfTheLeaderUnderLoad() throws Exception {
    startLoad();

    sites.kill9(sites.a());
    // Without a mediator the follower may not go on alone: it turns unavailable.
    sites.awaitCg(
        sites.b(),
        CG,
        "follower unavailable without its leader",
        FAULT_TIMEOUT,
        v -> v.path("availability").asText().equals("UNAVAILABLE"));
    awaitFollowerRefusingWrites();

    sites.restart(sites.a());
    long resyncBytes = sites.awaitInSyncWatchingResync(CG, RESYNC_TIMEOUT);
    atB.awaitMoreAcks(50, 30);
    atA.awaitMoreAcks(50, 30);
    atA.close();
    atB.close();
    assertResyncWithinWrittenRegions(resyncBytes);
    assertIdenticalAndNothingLost();
  }

  /**
   * Faults while the follower is being resynced: the link is cut again in the middle of a resync,
   * then the leader is killed in the middle of the next one. Each interrupted resync resumes from
   * the union of both dirty maps; nothing acknowledged is lost at either site.
   */
  @Test
  void faultsDuringAResyncLoseNothing() throws Exception {
    // Slow enough that each resync is seen in progress and interrupted there.
    sites.a().api().patch("/api/v1/cgs/" + CG, "{\"resyncRate\":\"1MiB\"}");
    startLoad();
    for (int round = 0; round < 2; round++) {
      sites.link().blackhole(Direction.UPSTREAM, Direction.DOWNSTREAM);
      awaitLeaderServingAlone();
      atA.awaitMoreAcks(300, 30);
      sites.link().heal();
      awaitResyncing();
      if (round == 0) {
        sites.link().blackhole(Direction.UPSTREAM, Direction.DOWNSTREAM); // cut mid-resync
        awaitLeaderServingAlone();
        atA.awaitMoreAcks(50, 30);
        sites.link().heal();
      } else {
        sites.kill9(sites.a()); // the leader dies mid-resync
        sites.restart(sites.a());
      }
    }
    sites.a().api().patch("/api/v1/cgs/" + CG, "{\"resyncRate\":\"64MiB\"}");
    healedWritingAtBothThenNothingLost();
  }

  /** Both site processes killed at once (a shared power feed that kept the disks' caches). */
  @Test
  void bothSitesKilledAtOnceAndRestartedLoseNothing() throws Exception {
    startLoad();
    sites.kill9Both();
    sites.restart(sites.b());
    sites.restart(sites.a());
    sites.awaitLinkUp();
    healedWritingAtBothThenNothingLost();
  }

  /** In sync again, both sites acknowledging writes again, then G1 at both and verify. */
  private void healedWritingAtBothThenNothingLost() throws Exception {
    sites.awaitInSync(CG, RESYNC_TIMEOUT);
    atA.awaitMoreAcks(50, 30);
    atB.awaitMoreAcks(50, 30);
    atA.close();
    atB.close();
    assertIdenticalAndNothingLost();
  }

  /** A planned switchover and back while both sites write: no write is lost or refused for long. */
  @Test
  void switchoverUnderLoadAtBothSitesLosesNothing() throws Exception {
    startLoad();
    JsonNode toB = sites.a().api().post("/api/v1/cgs/" + CG + "/switchover", "{}");
    assertThat(toB.path("role").asText()).isEqualTo("FOLLOWER");
    sites.awaitCg(
        sites.b(), CG, "B leads", FAULT_TIMEOUT, v -> v.path("role").asText().equals("LEADER"));
    atA.awaitMoreAcks(100, 30);
    atB.awaitMoreAcks(100, 30);
    sites.awaitInSync(CG, FAULT_TIMEOUT);
    JsonNode toA = sites.b().api().post("/api/v1/cgs/" + CG + "/switchover", "{}");
    assertThat(toA.path("role").asText()).isEqualTo("FOLLOWER");
    atA.awaitMoreAcks(100, 30);
    atB.awaitMoreAcks(100, 30);
    atA.close();
    atB.close();
    assertThat(atA.count(Outcome.UNAVAILABLE) + atB.count(Outcome.UNAVAILABLE))
        .as("a switchover keeps both sites serving")
        .isZero();
    assertIdenticalAndNothingLost();
  }

  private void awaitResyncing() throws Exception {
    sites.awaitCg(
        sites.a(),
        CG,
        "resync in progress",
        FAULT_TIMEOUT,
        v -> v.path("syncState").asText().equals("RESYNCING"));
  }

  /** Both writers running and acknowledged, and the group still in sync at both sites. */
  private void startLoad() throws Exception {
    atA.start();
    atB.start();
    atA.awaitMoreAcks(100, 30);
    atB.awaitMoreAcks(100, 30);
    sites.awaitInSync(CG, FAULT_TIMEOUT);
  }

  private void awaitLeaderServingAlone() throws Exception {
    sites.awaitCg(
        sites.a(),
        CG,
        "leader serving alone",
        FAULT_TIMEOUT,
        v ->
            v.path("link").asText().equals("DOWN")
                && v.path("availability").asText().equals("SERVING"));
  }

  /** New writes at B are answered 02/04/0C (not just delayed or failed). */
  private void awaitFollowerRefusingWrites() throws Exception {
    long refusedBefore = atB.count(Outcome.UNAVAILABLE);
    TwoSites.await(
        "writes at the follower refused with 02/04/0C",
        FAULT_TIMEOUT,
        () -> atB.count(Outcome.UNAVAILABLE) > refusedBefore);
  }

  /**
   * After a crash the resync covers the crashed site's activity log, whose unit is an extent of
   * {@link ActivityLogFile#EXTENT_SIZE_DEFAULT_BYTES} (written regions are marked in whole extents,
   * as DRBD does), and the survivor's dirty map: never more than the extents the writers touched,
   * never the whole volume.
   */
  private void assertResyncWithinWrittenRegions(long resyncBytes) {
    List<LoadWriter.Attempt> all = new ArrayList<>(atA.attempts());
    all.addAll(atB.attempts());
    long extent = ActivityLogFile.EXTENT_SIZE_DEFAULT_BYTES;
    long written = WriteChecker.regions(all, extent).size() * extent;
    assertThat(resyncBytes)
        .as("resync bytes vs the activity-log extents the writers touched (%d bytes)", written)
        .isLessThanOrEqualTo(written)
        .isLessThan(VOLUME_BYTES);
  }

  /**
   * G1 at both sites, then G4 by verify; every check runs and all failures are reported together,
   * so a run tells which site lost what and how far the copies differ.
   */
  private void assertIdenticalAndNothingLost() throws Exception {
    List<String> failures = new ArrayList<>();
    List<LoadWriter> writers = List.of(atA, atB);
    for (SiteProcess site : List.of(sites.a(), sites.b())) {
      try {
        WriteChecker.check(writers, sites.portal(site), sites.target(site), sites.name(site));
      } catch (AssertionError e) {
        failures.add(e.getMessage());
      }
    }
    JsonNode verify = sites.verify(CG);
    JsonNode differing = verify.path("differingRegions");
    if (verify.path("regionsCompared").asLong() <= 0 || !differing.isEmpty()) {
      List<String> first = new ArrayList<>();
      for (int i = 0; i < Math.min(3, differing.size()); i++) {
        first.add(differing.get(i).toString());
      }
      failures.add(
          "verify compared "
              + verify.path("regionsCompared").asLong()
              + " regions, "
              + differing.size()
              + " differ, first "
              + first);
    }
    assertThat(failures).as("lost writes or differing copies").isEmpty();
    assertThat(atA.count(Outcome.ACKED) + atB.count(Outcome.ACKED)).isGreaterThan(300);
  }
}
