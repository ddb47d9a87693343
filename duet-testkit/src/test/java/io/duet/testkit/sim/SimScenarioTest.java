package io.duet.testkit.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.duet.sync.ReplicationStatus;
import io.duet.sync.ReplicationStatus.Availability;
import io.duet.sync.ReplicationStatus.Role;
import io.duet.sync.ReplicationStatus.SyncState;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/**
 * Every row of replication.md section 3, scripted on the simulator: the real replication core at
 * both sites and the real mediator rules, on simulated time (heartbeat 100 ms, lease 500 ms with a
 * 100 ms margin, the mediator's grace 200 ms: the defaults scaled down ten times), with a host
 * writing and reading at each site throughout. Each test injects its fault, checks who serves and
 * when, then heals and checks G1-G5 as a random run does.
 */
class SimScenarioTest {
  /** Lease + grace + detection at the simulator's timings, with room for a heartbeat or two. */
  static final long DECISION_MS = 1_500;

  private static SimWorld.Scenario world(long seed) {
    return SimWorld.scripted(seed, false);
  }

  private static void finish(SimWorld.Scenario s) {
    SimResult r = s.finish();
    assertThat(r.violations()).as(r.report()).isEmpty();
  }

  /** A crashes; B takes over, acknowledges writes alone, and the link is cut. */
  private static void bTakesOverAndWritesAloneThenTheLinkIsCut(SimWorld.Scenario s) {
    s.crash(s.a(), false);
    assertThat(s.runUntil(() -> is(s.b(), Role.LEADER, Availability.SERVING), DECISION_MS))
        .as("the follower took over")
        .isTrue();
    s.runFor(300); // B acknowledges writes alone
    s.partition(true);
  }

  /** A, back but without the writes B acknowledged alone, serves nothing for 3 s. */
  private static void theStaleSiteNeverServes(SimWorld.Scenario s) {
    holdsNever(
        s,
        () -> s.a().alive() && s.a().status().availability() == Availability.SERVING,
        3_000,
        "the stale site served");
  }

  private static boolean is(SimSite site, Role role, Availability availability) {
    ReplicationStatus st = site.alive() ? site.status() : null;
    return st != null && st.role() == role && st.availability() == availability;
  }

  /** A serves alone, out of sync, and the mediator records the sites out of sync. */
  private static boolean aloneAndRecorded(SimWorld.Scenario s) {
    return is(s.a(), Role.LEADER, Availability.SERVING)
        && s.a().status().syncState() == SyncState.OUT_OF_SYNC
        && s.record() != null
        && !s.record().inSync();
  }

  /** Runs {@code ms} and fails if {@code never} held at any 5 ms step. */
  private static void holdsNever(SimWorld.Scenario s, BooleanSupplier never, long ms, String what) {
    assertThat(s.runUntil(never, ms)).as(what).isFalse();
  }

  @Test
  void linkFailureTheLeaderIsRecordedAsSurvivorAndGoesOn() {
    SimWorld.Scenario s = world(101);
    s.partition(true);
    assertThat(s.runUntil(() -> aloneAndRecorded(s), DECISION_MS))
        .as("the leader recorded out of sync and serves alone")
        .isTrue();
    assertThat(s.record().survivor()).isEqualTo(s.a().id);
    assertThat(s.record().epoch()).isEqualTo(2);
    assertThat(s.b().status().availability()).isNotEqualTo(Availability.SERVING);
    holdsNever(s, () -> s.b().status().role() == Role.LEADER, 2_000, "the follower took over");
    finish(s);
  }

  @Test
  void leaderFailureTheFollowerTakesOverAfterTheLeaseThenTheLeaderReturnsFenced() {
    SimWorld.Scenario s = world(102);
    long fault = s.nowMs();
    s.crash(s.a(), false);
    assertThat(s.runUntil(() -> is(s.b(), Role.LEADER, Availability.SERVING), DECISION_MS))
        .as("the follower took over")
        .isTrue();
    // Not before the leader's lease plus the grace could have run out at the mediator.
    assertThat(s.nowMs() - fault)
        .isGreaterThanOrEqualTo(SimWorld.MEDIATOR_LEASE_MS + SimWorld.MEDIATOR_GRACE_MS - 100);
    assertThat(s.record().survivor()).isEqualTo(s.b().id);
    s.restart(s.a());
    assertThat(s.runUntil(() -> s.a().alive() && s.a().status().role() == Role.FOLLOWER, 2_000))
        .as("the returned leader is fenced: a follower")
        .isTrue();
    assertThat(s.runUntil(() -> is(s.a(), Role.FOLLOWER, Availability.SERVING), 5_000))
        .as("then resynced and serving again")
        .isTrue();
    finish(s);
  }

  @Test
  void followerFailureTheLeaderGoesOnAlone() {
    SimWorld.Scenario s = world(103);
    s.crash(s.b(), false);
    assertThat(s.runUntil(() -> aloneAndRecorded(s), DECISION_MS)).isTrue();
    assertThat(s.record().survivor()).isEqualTo(s.a().id);
    s.restart(s.b());
    finish(s);
  }

  @Test
  void mediatorFailureReplicationGoesOnAndTheLeaderIsPreElected() {
    SimWorld.Scenario s = world(104);
    s.crashMediator();
    assertThat(s.runUntil(() -> s.a().status().mediator().preElected(), DECISION_MS))
        .as("the leader is pre-elected")
        .isTrue();
    // Past any lease: both sites keep serving, in sync (RPO 0).
    holdsNever(
        s,
        () ->
            !is(s.a(), Role.LEADER, Availability.SERVING)
                || !is(s.b(), Role.FOLLOWER, Availability.SERVING)
                || s.a().status().syncState() != SyncState.IN_SYNC,
        2_000,
        "a site stopped serving without its mediator");
    s.restartMediator();
    assertThat(s.runUntil(() -> !s.a().status().mediator().preElected(), DECISION_MS))
        .as("the leader holds a lease again")
        .isTrue();
    finish(s);
  }

  @Test
  void mediatorAndLinkFailureThePreElectedLeaderGoesOnAndALostLeaderIsNotReplaced() {
    SimWorld.Scenario s = world(105);
    s.crashMediator();
    assertThat(s.runUntil(() -> s.a().status().mediator().preElected(), DECISION_MS)).isTrue();
    s.partition(true);
    assertThat(
            s.runUntil(
                () ->
                    is(s.a(), Role.LEADER, Availability.SERVING)
                        && s.a().status().syncState() == SyncState.OUT_OF_SYNC,
                DECISION_MS))
        .as("the pre-elected leader goes on alone")
        .isTrue();
    s.restartMediator();
    s.crash(s.a(), false);
    holdsNever(
        s,
        () -> s.b().status().role() == Role.LEADER,
        3_000,
        "the follower took over from a pre-elected leader");
    s.restart(s.a());
    finish(s);
  }

  @Test
  void isolatedLeaderStopsWithinItsLeaseAndTheFollowerTakesOver() {
    SimWorld.Scenario s = world(106);
    long fault = s.nowMs();
    s.cutMediator(s.a(), true);
    s.partition(true);
    assertThat(s.runUntil(() -> !is(s.a(), Role.LEADER, Availability.SERVING), 1_000))
        .as("the isolated leader stops serving")
        .isTrue();
    assertThat(s.nowMs() - fault).isLessThanOrEqualTo(SimWorld.SETTINGS.leaseMs());
    assertThat(s.runUntil(() -> is(s.b(), Role.LEADER, Availability.SERVING), DECISION_MS))
        .as("the follower took over")
        .isTrue();
    finish(s);
  }

  @Test
  void isolatedFollowerStopsAndTheLeaderGoesOn() {
    SimWorld.Scenario s = world(107);
    s.cutMediator(s.b(), true);
    s.partition(true);
    assertThat(s.runUntil(() -> aloneAndRecorded(s), DECISION_MS)).isTrue();
    assertThat(s.b().status().availability()).isNotEqualTo(Availability.SERVING);
    holdsNever(s, () -> s.b().status().role() == Role.LEADER, 2_000, "the follower took over");
    finish(s);
  }

  @Test
  void leaderPausedPastItsLeaseIsFencedWhenItResumes() {
    SimWorld.Scenario s = world(108);
    s.pause(s.a(), 2_000);
    assertThat(s.runUntil(() -> is(s.b(), Role.LEADER, Availability.SERVING), DECISION_MS))
        .as("the follower took over from the paused leader")
        .isTrue();
    assertThat(s.runUntil(() -> s.a().status().role() == Role.FOLLOWER, 3_000))
        .as("the resumed leader learns it was replaced")
        .isTrue();
    finish(s); // G3: no alone acknowledgement by the old leader in the new epoch
  }

  @Test
  void leaderPowerLossHandsTheResyncToTheFollowerThatHoldsEveryWrite() {
    SimWorld.Scenario s = world(109);
    s.runFor(300); // writes replicated to both sites, un-flushed in the leader's page cache
    s.crash(s.a(), true);
    s.restart(s.a()); // at once: before the follower could take over
    assertThat(
            s.runUntil(
                () -> s.b().status().role() == Role.LEADER && s.b().status().epoch() >= 2, 3_000))
        .as("the leader that lost its page cache handed the leadership to its follower")
        .isTrue();
    finish(s); // G1, G2, G4: nothing the follower held was overwritten
  }

  /**
   * An operator forces the follower to lead while the old leader, recorded as the survivor, is cut
   * off from everyone: the forced site serves only once the old leader's lease has ended, and the
   * old leader stops serving by then (an isolated site stops within its lease).
   */
  @Test
  void forcedFailoverServesOnlyOnceTheOldLeadersLeaseHasEnded() {
    SimWorld.Scenario s = world(110);
    long cutAt = s.nowMs();
    s.partition(true);
    assertThat(s.runUntil(() -> aloneAndRecorded(s), DECISION_MS)).isTrue();
    s.cutMediator(s.a(), true); // A is isolated, still the recorded survivor with a lease
    long forcedAt = s.nowMs();
    java.util.concurrent.CompletableFuture<String> forced = s.forceFailover(s.b(), cutAt);
    holdsNever(
        s,
        () -> is(s.b(), Role.LEADER, Availability.SERVING),
        SimWorld.MEDIATOR_LEASE_MS - 100,
        "the forced site served while the old leader's lease could still run");
    assertThat(s.runUntil(() -> is(s.b(), Role.LEADER, Availability.SERVING), DECISION_MS))
        .as("the forced site serves once the lease has ended")
        .isTrue();
    assertThat(forced).isCompleted();
    assertThat(forced.join()).contains("recorded at the mediator").contains("waited");
    assertThat(s.nowMs() - forcedAt).isGreaterThanOrEqualTo(SimWorld.MEDIATOR_LEASE_MS - 100);
    assertThat(s.a().status().availability()).isNotEqualTo(Availability.SERVING);
    assertThat(s.record().survivor()).isEqualTo(s.b().id);
    finish(s); // G3: A's last acknowledgement came before B's first; G1/G2 on the rest
  }

  /**
   * The mediator loses its record while the site that took over serves alone, and the stale old
   * leader returns with the link still cut: the record registered again decides nothing before both
   * sites reported their epochs, so the stale site is never granted a survivor's role, and the
   * record settles on the survivor's higher epoch.
   */
  @Test
  void aMediatorThatLostItsRecordGrantsTheStaleSiteNothing() {
    SimWorld.Scenario s = world(111);
    bTakesOverAndWritesAloneThenTheLinkIsCut(s);
    s.loseMediatorRecords();
    s.restart(s.a());
    theStaleSiteNeverServes(s);
    assertThat(
            s.runUntil(
                () ->
                    is(s.b(), Role.LEADER, Availability.SERVING)
                        && s.record() != null
                        && s.record().awaiting().isEmpty(),
                DECISION_MS))
        .as("the survivor serves and the record is confirmed")
        .isTrue();
    assertThat(s.record().survivor()).isEqualTo(s.b().id);
    assertThat(s.record().epoch()).isGreaterThanOrEqualTo(2);
    finish(s); // G1: nothing B acknowledged alone is lost; G3: A never acknowledged alone
  }

  /**
   * The mediator is rebuilt from a backup taken while the sites were in sync (A leading), after B
   * took over and acknowledged writes alone; A returns with the link cut. The old record names A
   * the in-sync leader, yet A must never serve: B holds writes A lacks. B refuses the record's
   * older answers, so it stops serving when its lease ends, until the mediator adopts its epoch.
   */
  @Test
  void aMediatorRestoredFromAnOlderBackupGrantsTheStaleSiteNothing() {
    SimWorld.Scenario s = world(113);
    s.backUpMediator(); // in sync at epoch 1, A leads
    bTakesOverAndWritesAloneThenTheLinkIsCut(s);
    s.restoreMediatorBackup();
    s.restart(s.a());
    theStaleSiteNeverServes(s);
    // B's epoch outranks the restored record: once the lease that record gave A plus the grace
    // has run out, the mediator adopts B as the survivor again and B serves.
    assertThat(s.runUntil(() -> is(s.b(), Role.LEADER, Availability.SERVING), DECISION_MS))
        .as("the survivor serves again")
        .isTrue();
    assertThat(s.record().survivor()).isEqualTo(s.b().id);
    assertThat(s.record().epoch()).isGreaterThanOrEqualTo(2);
    finish(s); // G1: nothing B acknowledged alone is lost; G3: A never acknowledged alone
  }

  /**
   * Both sites lose power at once while in sync (one power feed): what a completed FLUSH or FUA
   * covered survives at both, un-flushed writes may go (WCE=1), and the sites come back in sync,
   * identical, serving.
   */
  @Test
  void bothSitesLosePowerAtOnceAndKeepWhatWasFlushed() {
    SimWorld.Scenario s = world(112);
    s.runFor(400); // writes and flushes from both hosts
    s.powerLossBoth();
    s.restart(s.a());
    s.restart(s.b());
    assertThat(
            s.runUntil(
                () ->
                    is(s.a(), Role.LEADER, Availability.SERVING)
                        && is(s.b(), Role.FOLLOWER, Availability.SERVING),
                5_000))
        .as("both back, in sync and serving")
        .isTrue();
    finish(s); // G1 flush-aware: nothing a completed flush covered is lost; G4 identical
  }
}
