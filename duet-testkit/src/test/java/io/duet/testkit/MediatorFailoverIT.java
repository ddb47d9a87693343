package io.duet.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.duet.testkit.LoadWriter.Attempt;
import io.duet.testkit.LoadWriter.Outcome;
import io.duet.testkit.proxy.Direction;
import io.duet.testkit.proxy.FaultProxy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Automatic failover with the mediator (replication.md section 3), as a stretched-cluster
 * administrator would test it before go-live: two site processes and a mediator process, each site
 * reaching the mediator through its own fault proxy, a writer at each site, and one fault per test
 * — site power-off ({@code kill -9}) of leader and follower, link cut, mediator killed, mediator
 * killed then link cut, leader isolated from peer and mediator, leader paused ({@code SIGSTOP})
 * longer than its lease. Each test measures the RTO (fault to the first write acknowledged at the
 * survivor that was sent after the fault), lets the faults heal, and checks at both sites that
 * every acknowledged write is there (G1) and that verify finds the copies identical (G4). Default
 * timings: heartbeat 1 s, lease 5 s, mediator grace 2 s. The figures are printed as a table and
 * kept in {@code target/mediator-failover.txt}.
 */
class MediatorFailoverIT {
  static final String CG = "cg1";
  static final String VOLUME = "vol1";
  static final int WRITER_SLOTS = 2048;
  static final Duration FAULT_TIMEOUT = Duration.ofSeconds(40);
  static final Duration RESYNC_TIMEOUT = Duration.ofSeconds(90);

  /** What the sites and the mediator use by default; the tests measure against it. */
  static final long LEASE_MS = 5_000;

  private static final List<String> REPORT = new ArrayList<>();

  TwoSites sites;
  MediatorProcess mediator;
  FaultProxy toMediatorA;
  FaultProxy toMediatorB;
  LoadWriter atA;
  LoadWriter atB;

  @BeforeEach
  void twoSitesAndAMediator() throws Exception {
    Path dir = Files.createTempDirectory(Path.of("target"), "mediator-failover");
    sites = TwoSites.start(dir);
    mediator = MediatorProcess.start(dir.resolve("mediator"));
    toMediatorA = FaultProxy.start(mediator.address());
    toMediatorB = FaultProxy.start(mediator.address());
    // Each site with its own user: the mediator lets a user act for one site only.
    useMediator(sites.a(), toMediatorA, MediatorProcess.USER_A);
    useMediator(sites.b(), toMediatorB, MediatorProcess.USER_B);
    sites.createVolume(VOLUME, "64MiB");
    sites.createCg(CG, List.of(VOLUME), "8MiB");
    sites.mapEverywhere(VOLUME, 0);
    awaitMediator(sites.a(), "connected and in quorum", m -> m.path("inQuorum").asBoolean());
    awaitMediator(sites.b(), "connected and in quorum", m -> m.path("inQuorum").asBoolean());
    atA = new LoadWriter(1, sites.portal(sites.a()), sites.target(sites.a()), 0, WRITER_SLOTS);
    atB =
        new LoadWriter(
            2, sites.portal(sites.b()), sites.target(sites.b()), WRITER_SLOTS, WRITER_SLOTS);
    atA.start();
    atB.start();
    atA.awaitMoreAcks(100, 30);
    atB.awaitMoreAcks(100, 30);
    sites.awaitInSync(CG, FAULT_TIMEOUT);
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
      try {
        if (sites != null) {
          sites.close();
        }
      } finally {
        for (AutoCloseable c : new AutoCloseable[] {toMediatorA, toMediatorB, mediator}) {
          if (c != null) {
            c.close();
          }
        }
      }
    }
  }

  @AfterAll
  static void printReport() throws IOException {
    List<String> table = new ArrayList<>();
    table.add(
        String.format(
            Locale.ROOT,
            "%-44s %9s %14s %9s %6s",
            "scenario",
            "RTO ms",
            "resync bytes",
            "acked",
            "lost"));
    table.addAll(REPORT);
    table.forEach(System.out::println);
    Files.write(
        Path.of("target", "mediator-failover.txt"),
        table,
        StandardOpenOption.CREATE,
        StandardOpenOption.TRUNCATE_EXISTING);
  }

  @Test
  void leaderPowerOffTheFollowerTakesOverAndTheLeaderReturnsFencedThenResynced() throws Exception {
    long fault = System.nanoTime();
    sites.kill9(sites.a());
    awaitRole(sites.b(), "LEADER", "SERVING");
    atB.awaitMoreAcks(50, 30);
    long rto = rtoMs(atB, fault);

    // The failed site returns: fenced (a follower, not serving) until resynced, then active.
    sites.restart(sites.a());
    JsonNode back =
        sites.awaitCg(
            sites.a(),
            CG,
            "returned site fenced as follower",
            FAULT_TIMEOUT,
            v -> v.path("role").asText().equals("FOLLOWER"));
    assertThat(back.path("epoch").asLong()).isGreaterThan(1);
    long resync = sites.awaitInSyncWatchingResync(CG, RESYNC_TIMEOUT);
    resync = Math.max(resync, sites.cg(sites.b(), CG).path("resync").path("bytesDone").asLong());
    assertThat(resync).as("the survivor wrote alone: the returned site is resynced").isPositive();
    finish("leader site power-off (kill -9), then return", rto, resync, sites.b());
  }

  @Test
  void followerPowerOffTheLeaderContinues() throws Exception {
    long fault = System.nanoTime();
    sites.kill9(sites.b());
    awaitRole(sites.a(), "LEADER", "SERVING");
    atA.awaitMoreAcks(50, 30);
    long rto = rtoMs(atA, fault);
    sites.restart(sites.b());
    long resync = sites.awaitInSyncWatchingResync(CG, RESYNC_TIMEOUT);
    finish("follower site power-off (kill -9), then return", rto, resync, sites.a());
  }

  @Test
  void linkCutTheLeaderContinuesTheFollowerTurnsUnavailable() throws Exception {
    long fault = System.nanoTime();
    sites.link().blackhole(Direction.UPSTREAM, Direction.DOWNSTREAM);
    sites.awaitCg(sites.b(), CG, "follower unavailable", FAULT_TIMEOUT, v -> !serving(v));
    atA.awaitMoreAcks(50, 30);
    long rto = rtoMs(atA, fault);
    assertThat(sites.cg(sites.b(), CG).path("role").asText())
        .as("the follower must not take over while the leader holds its lease")
        .isEqualTo("FOLLOWER");
    awaitRefused(atB);
    sites.link().heal();
    long resync = sites.awaitInSyncWatchingResync(CG, RESYNC_TIMEOUT);
    finish("replication link cut, then healed", rto, resync, sites.a());
  }

  @Test
  void mediatorKilledReplicationGoesOnAndTheLeaderIsPreElected() throws Exception {
    long fault = System.nanoTime();
    mediator.kill9();
    awaitMediator(sites.a(), "pre-elected", m -> m.path("preElected").asBoolean());
    awaitMediator(sites.b(), "disconnected", m -> !m.path("connected").asBoolean());
    // Past the leader's lease: replication goes on at both sites without a pause.
    long leaseOver = fault + Duration.ofMillis(LEASE_MS + 2_000).toNanos();
    TwoSites.await("lease over", FAULT_TIMEOUT, () -> System.nanoTime() > leaseOver);
    atA.awaitMoreAcks(50, 30);
    atB.awaitMoreAcks(50, 30);
    long gapMs = Math.max(largestGapMs(atA, fault), largestGapMs(atB, fault));
    assertThat(gapMs)
        .as("longest pause between acknowledged writes after the kill")
        .isLessThan(LEASE_MS);
    assertThat(sites.cg(sites.a(), CG).path("syncState").asText()).isEqualTo("IN_SYNC");
    // A planned switchover needs the mediator's agreement: refused, and nothing moves.
    DuetApi.ApiException refused =
        org.junit.jupiter.api.Assertions.assertThrows(
            DuetApi.ApiException.class,
            () -> sites.a().api().post("/api/v1/cgs/" + CG + "/switchover", "{}"));
    assertThat(refused.getMessage()).contains("mediator");
    assertThat(sites.cg(sites.a(), CG).path("role").asText()).isEqualTo("LEADER");

    mediator.launch();
    awaitMediator(sites.a(), "back in quorum", m -> m.path("inQuorum").asBoolean());
    awaitMediator(sites.b(), "back in quorum", m -> m.path("inQuorum").asBoolean());
    awaitMediator(sites.a(), "lease renewed", m -> !m.path("preElected").asBoolean());
    finish("mediator killed (I/O pause shown as RTO)", gapMs, 0, sites.a());
  }

  @Test
  void mediatorKilledThenLinkCutThePreElectedLeaderContinues() throws Exception {
    mediator.kill9();
    awaitMediator(sites.a(), "pre-elected", m -> m.path("preElected").asBoolean());
    long fault = System.nanoTime();
    sites.link().blackhole(Direction.UPSTREAM, Direction.DOWNSTREAM);
    sites.awaitCg(sites.b(), CG, "follower unavailable", FAULT_TIMEOUT, v -> !serving(v));
    atA.awaitMoreAcks(50, 30);
    long rto = rtoMs(atA, fault);
    awaitRefused(atB);
    assertThat(sites.cg(sites.b(), CG).path("role").asText()).isEqualTo("FOLLOWER");

    mediator.launch();
    sites.link().heal();
    long resync = sites.awaitInSyncWatchingResync(CG, RESYNC_TIMEOUT);
    awaitMediator(sites.a(), "back in quorum", m -> m.path("inQuorum").asBoolean());
    finish("mediator killed, then link cut", rto, resync, sites.a());
  }

  @Test
  void leaderIsolatedFromPeerAndMediatorStopsAndTheFollowerTakesOver() throws Exception {
    long fault = System.nanoTime();
    cut(toMediatorA);
    sites.link().blackhole(Direction.UPSTREAM, Direction.DOWNSTREAM);
    long isolated = System.nanoTime(); // writes sent before this may have been replicated
    awaitRole(sites.b(), "LEADER", "SERVING");
    atB.awaitMoreAcks(50, 30);
    long rto = rtoMs(atB, fault);
    sites.awaitCg(sites.a(), CG, "isolated leader not serving", FAULT_TIMEOUT, v -> !serving(v));
    assertThat(ackedStartedAfter(atA, isolated))
        .as("writes acknowledged by the isolated leader that were sent after it was cut off")
        .isZero();

    toMediatorA.refuseNewConnections(false);
    toMediatorA.heal();
    sites.link().heal();
    sites.awaitCg(
        sites.a(),
        CG,
        "old leader fenced",
        FAULT_TIMEOUT,
        v -> v.path("role").asText().equals("FOLLOWER"));
    long resync = sites.awaitInSyncWatchingResync(CG, RESYNC_TIMEOUT);
    finish("leader isolated from peer and mediator", rto, resync, sites.b());
  }

  @Test
  void leaderPausedLongerThanItsLeaseAcknowledgesNothingAfterIt() throws Exception {
    long fault = System.nanoTime();
    sites.a().pause();
    long paused = System.nanoTime(); // kill(2) has returned: the process is stopped
    try {
      awaitRole(sites.b(), "LEADER", "SERVING");
      atB.awaitMoreAcks(50, 30);
    } finally {
      sites.a().resume();
    }
    long rto = rtoMs(atB, fault);
    sites.awaitCg(
        sites.a(),
        CG,
        "resumed leader fenced",
        FAULT_TIMEOUT,
        v -> v.path("role").asText().equals("FOLLOWER"));
    // Every write sent to the paused leader reached it after its lease: none may be acknowledged.
    assertThat(ackedStartedAfter(atA, paused))
        .as("writes acknowledged by the leader after it was paused past its lease")
        .isZero();
    long resync = sites.awaitInSyncWatchingResync(CG, RESYNC_TIMEOUT);
    finish("leader paused (SIGSTOP) past its lease", rto, resync, sites.b());
  }

  // ---------------------------------------------------------------- helpers

  private void useMediator(SiteProcess site, FaultProxy proxy, String user)
      throws IOException, InterruptedException {
    ObjectNode body =
        new com.fasterxml.jackson.databind.ObjectMapper()
            .createObjectNode()
            .put("address", "127.0.0.1:" + proxy.port())
            .put("caCert", Files.readString(mediator.caCertificate()))
            .put("user", user)
            .put("password", mediator.password(user));
    // The first login costs the mediator a PBKDF2 run: on a loaded machine the site's check may
    // time out, and the operator would simply try again.
    TwoSites.await(
        "mediator configured at " + sites.name(site),
        FAULT_TIMEOUT,
        () -> {
          try {
            site.api().put("/api/v1/mediator", body.toString());
            return true;
          } catch (DuetApi.ApiException e) {
            if (e.status != 503) {
              throw e;
            }
            return false;
          }
        });
  }

  private static void cut(FaultProxy proxy) {
    proxy.refuseNewConnections(true);
    proxy.blackhole(Direction.UPSTREAM, Direction.DOWNSTREAM);
  }

  private void awaitMediator(
      SiteProcess site, String what, java.util.function.Predicate<JsonNode> condition)
      throws Exception {
    sites.awaitCg(
        site, CG, "mediator " + what, FAULT_TIMEOUT, v -> condition.test(v.path("mediator")));
  }

  /**
   * The mediator's data directory is restored from a copy taken while the sites were in sync, after
   * the leader recorded itself as the survivor of a link cut: the restored record lags the sites.
   * The leader's next report brings it forward (it went on alone as the recorded leader), the
   * follower is never promoted, and nothing is lost.
   */
  @Test
  void mediatorRestoredFromAnOlderCopyLosesNothing() throws Exception {
    Path copy = mediator.dataDir().resolveSibling("data-copy");
    copyTree(mediator.dataDir(), copy);
    long fault = System.nanoTime();
    sites.link().blackhole(Direction.UPSTREAM, Direction.DOWNSTREAM);
    sites.awaitCg(sites.b(), CG, "follower unavailable", FAULT_TIMEOUT, v -> !serving(v));
    atA.awaitMoreAcks(50, 30);
    long rto = rtoMs(atA, fault);

    mediator.kill9();
    deleteTree(mediator.dataDir());
    copyTree(copy, mediator.dataDir());
    mediator.launch();
    awaitMediator(
        sites.a(), "back in quorum after the restore", m -> m.path("inQuorum").asBoolean());
    atA.awaitMoreAcks(50, 30);
    assertThat(sites.cg(sites.b(), CG).path("role").asText())
        .as("the follower is not promoted by the older record")
        .isEqualTo("FOLLOWER");
    awaitRefused(atB);
    sites.link().heal();
    long resync = sites.awaitInSyncWatchingResync(CG, RESYNC_TIMEOUT);
    finish("mediator restored from an older copy", rto, resync, sites.a());
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (var paths = Files.walk(from)) {
      for (Path p : paths.toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
        }
      }
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  private void awaitRole(SiteProcess site, String role, String availability) throws Exception {
    sites.awaitCg(
        site,
        CG,
        role + " and " + availability,
        FAULT_TIMEOUT,
        v ->
            v.path("role").asText().equals(role)
                && v.path("availability").asText().equals(availability));
  }

  private static boolean serving(JsonNode v) {
    return v.path("availability").asText().equals("SERVING");
  }

  /** New writes at a site that does not serve are refused with 02/04/0C. */
  private static void awaitRefused(LoadWriter writer) throws InterruptedException {
    long before = writer.count(Outcome.UNAVAILABLE);
    TwoSites.await(
        "writes refused with 02/04/0C at writer " + writer.id,
        FAULT_TIMEOUT,
        () -> writer.count(Outcome.UNAVAILABLE) > before);
  }

  /** Fault to the first acknowledged write that was sent after it. */
  private static long rtoMs(LoadWriter survivor, long faultNanos) {
    return survivor.attempts().stream()
        .filter(a -> a.outcome() == Outcome.ACKED && a.startNanos() >= faultNanos)
        .mapToLong(a -> (a.endNanos() - faultNanos) / 1_000_000)
        .min()
        .orElseThrow(() -> new AssertionError("no write acknowledged after the fault"));
  }

  private static long ackedStartedAfter(LoadWriter writer, long nanos) {
    return writer.attempts().stream()
        .filter(a -> a.outcome() == Outcome.ACKED && a.startNanos() >= nanos)
        .count();
  }

  /** The longest time without an acknowledgement at {@code writer} after {@code fromNanos}. */
  private static long largestGapMs(LoadWriter writer, long fromNanos) {
    long previous = fromNanos;
    long largest = 0;
    for (Attempt a : writer.attempts()) {
      if (a.outcome() == Outcome.ACKED && a.endNanos() >= fromNanos) {
        largest = Math.max(largest, a.endNanos() - previous);
        previous = a.endNanos();
      }
    }
    return largest / 1_000_000;
  }

  /**
   * Stops the writers, checks G1 at both sites and G4 by a verify run at {@code leader}, and adds
   * the scenario's row to the report.
   */
  private void finish(String scenario, long rtoMs, long resyncBytes, SiteProcess leader)
      throws Exception {
    atA.close();
    atB.close();
    List<String> failures = new ArrayList<>();
    List<LoadWriter> writers = List.of(atA, atB);
    for (SiteProcess site : List.of(sites.a(), sites.b())) {
      try {
        WriteChecker.check(writers, sites.portal(site), sites.target(site), sites.name(site));
      } catch (AssertionError e) {
        failures.add(e.getMessage());
      }
    }
    JsonNode verify = leader.api().post("/api/v1/cgs/" + CG + "/verify", "{\"repair\":false}");
    if (verify.path("regionsCompared").asLong() <= 0
        || !verify.path("differingRegions").isEmpty()) {
      failures.add("verify: " + verify);
    }
    long acked = atA.count(Outcome.ACKED) + atB.count(Outcome.ACKED);
    // A quick resync may end between two polls of the watcher: the leader keeps what it copied.
    resyncBytes =
        Math.max(resyncBytes, sites.cg(leader, CG).path("resync").path("bytesDone").asLong());
    synchronized (REPORT) {
      REPORT.add(
          String.format(
              Locale.ROOT,
              "%-44s %9d %14d %9d %6s",
              scenario,
              rtoMs,
              resyncBytes,
              acked,
              failures.isEmpty() ? "0" : "LOST"));
    }
    assertThat(failures).as("lost writes or differing copies after: " + scenario).isEmpty();
    assertThat(acked).isGreaterThan(200);
  }
}
