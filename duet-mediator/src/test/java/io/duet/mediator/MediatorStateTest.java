package io.duet.mediator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.duet.mediator.Decision.Reason;
import io.duet.mediator.MediatorException.Kind;
import io.duet.mediator.Request.ForcedFailover;
import io.duet.mediator.Request.Heartbeat;
import io.duet.mediator.Request.OutOfSync;
import io.duet.mediator.Request.PreElect;
import io.duet.mediator.Request.RenewLease;
import io.duet.mediator.Request.Takeover;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The rows of replication.md section 3 that the mediator decides, on a manual clock. */
class MediatorStateTest {
  static final long LEASE_MS = 5000;
  static final long GRACE_MS = 2000;
  static final UUID GROUP = UUID.fromString("00000000-0000-0000-0000-0000000000c1");
  static final UUID A = UUID.fromString("00000000-0000-0000-0000-00000000000a");
  static final UUID B = UUID.fromString("00000000-0000-0000-0000-00000000000b");

  @TempDir Path dir;
  final ManualClock clock = new ManualClock();
  MediatorState state;

  @BeforeEach
  void open() throws IOException {
    state = reopen();
    state.register(GROUP, A, B, A, 1);
    // A record is new until both sites report: confirm it, as their first heartbeats do.
    assertThat(state.apply(GROUP, new Heartbeat(A, 1, A, true)).granted()).isTrue();
    assertThat(state.apply(GROUP, new Heartbeat(B, 1, A, true)).granted()).isTrue();
    assertThat(state.view(GROUP).awaiting()).isEmpty();
  }

  MediatorState reopen() throws IOException {
    return MediatorState.open(dir, new FailoverRules(LEASE_MS, GRACE_MS), clock);
  }

  @Test
  void bothSitesHeartbeatAndTheLeaderRenewsItsLease() throws IOException {
    assertThat(state.apply(GROUP, new Heartbeat(A, 1, A, true)).granted()).isTrue();
    assertThat(state.apply(GROUP, new Heartbeat(B, 1, A, true)).granted()).isTrue();
    clock.advanceMs(4000);
    Decision lease = state.apply(GROUP, new RenewLease(A, 1));
    assertThat(lease.granted()).isTrue();
    assertThat(lease.leaseMs()).isEqualTo(LEASE_MS);
    assertThat(lease.relationship().leaseRemainingMs()).isEqualTo(LEASE_MS);
    assertThat(lease.relationship().sites())
        .allSatisfy(s -> assertThat(s.reportedEpoch()).isEqualTo(1));
  }

  @Test
  void theFollowerCannotRenewTheLease() throws IOException {
    Decision d = state.apply(GROUP, new RenewLease(B, 1));
    assertThat(d.granted()).isFalse();
    assertThat(d.reason()).isEqualTo(Reason.NOT_LEADER);
  }

  @Test
  void linkFailureTheLeaderRecordsOutOfSyncAndTheFollowerLearnsIt() throws IOException {
    Decision d = state.apply(GROUP, new OutOfSync(A, 1));
    assertThat(d.granted()).isTrue();
    assertThat(d.relationship().epoch()).isEqualTo(2);
    assertThat(d.relationship().inSync()).isFalse();
    assertThat(d.relationship().survivor()).isEqualTo(A);
    assertThat(d.leaseMs()).isEqualTo(LEASE_MS);

    Decision follower = state.apply(GROUP, new Heartbeat(B, 1, A, true));
    assertThat(follower.granted()).isFalse();
    assertThat(follower.reason()).isEqualTo(Reason.STALE_EPOCH);
    assertThat(follower.relationship().epoch()).isEqualTo(2);
    assertThat(follower.relationship().survivor()).isEqualTo(A);

    // Even once the leader's lease has long expired, the stale follower is never promoted.
    clock.advanceMs(60_000);
    Decision takeover = state.apply(GROUP, new Takeover(B, 1));
    assertThat(takeover.granted()).isFalse();
    assertThat(takeover.reason()).isEqualTo(Reason.OUT_OF_SYNC);
  }

  @Test
  void outOfSyncIsIdempotentForARetryAfterALostAnswer() throws IOException {
    state.apply(GROUP, new OutOfSync(A, 1));
    Decision retry = state.apply(GROUP, new OutOfSync(A, 1));
    assertThat(retry.granted()).isTrue();
    assertThat(retry.relationship().epoch()).isEqualTo(2);
  }

  @Test
  void theFollowerMayNotRecordOutOfSync() throws IOException {
    Decision d = state.apply(GROUP, new OutOfSync(B, 1));
    assertThat(d.granted()).isFalse();
    assertThat(d.reason()).isEqualTo(Reason.NOT_LEADER);
    assertThat(d.relationship().inSync()).isTrue();
  }

  @Test
  void leaderFailureTakeoverOnlyAfterLeasePlusGraceThenFenced() throws IOException {
    state.apply(GROUP, new RenewLease(A, 1));
    clock.advanceMs(LEASE_MS);
    Decision early = state.apply(GROUP, new Takeover(B, 1));
    assertThat(early.granted()).isFalse();
    assertThat(early.reason()).isEqualTo(Reason.LEASE_VALID);
    assertThat(early.waitMs()).isEqualTo(GRACE_MS);
    assertThat(early.relationship().epoch()).isEqualTo(1);

    clock.advanceMs(GRACE_MS - 1);
    assertThat(state.apply(GROUP, new Takeover(B, 1)).waitMs()).isEqualTo(1);
    clock.advanceMs(1);
    Decision granted = state.apply(GROUP, new Takeover(B, 1));
    assertThat(granted.granted()).isTrue();
    assertThat(granted.relationship().epoch()).isEqualTo(2);
    assertThat(granted.relationship().leader()).isEqualTo(B);
    assertThat(granted.relationship().survivor()).isEqualTo(B);

    // The old leader returns: it cannot renew, record out of sync or be adopted; it learns epoch 2.
    Decision renew = state.apply(GROUP, new RenewLease(A, 1));
    assertThat(renew.reason()).isEqualTo(Reason.FENCED);
    assertThat(state.apply(GROUP, new OutOfSync(A, 1)).reason()).isEqualTo(Reason.FENCED);
    Decision hb = state.apply(GROUP, new Heartbeat(A, 1, A, true));
    assertThat(hb.reason()).isEqualTo(Reason.STALE_EPOCH);
    assertThat(hb.relationship().survivor()).isEqualTo(B);
    Decision claim = state.apply(GROUP, new Heartbeat(A, 2, A, false));
    assertThat(claim.reason()).isEqualTo(Reason.CONFLICT);
    assertThat(state.apply(GROUP, new Takeover(A, 2)).reason()).isEqualTo(Reason.OUT_OF_SYNC);
  }

  @Test
  void aRenewedLeaseDelaysTheTakeover() throws IOException {
    clock.advanceMs(LEASE_MS - 1000);
    state.apply(GROUP, new RenewLease(A, 1));
    clock.advanceMs(LEASE_MS);
    Decision d = state.apply(GROUP, new Takeover(B, 1));
    assertThat(d.reason()).isEqualTo(Reason.LEASE_VALID);
    assertThat(d.waitMs()).isEqualTo(GRACE_MS);
  }

  @Test
  void theLeaderAndTheFollowerRaceTheMediatorSerializesThem() throws IOException {
    clock.advanceMs(LEASE_MS + GRACE_MS);
    assertThat(state.apply(GROUP, new Takeover(B, 1)).granted()).isTrue();
    Decision late = state.apply(GROUP, new OutOfSync(A, 1));
    assertThat(late.granted()).isFalse();
    assertThat(late.reason()).isEqualTo(Reason.FENCED);
    assertThat(late.relationship().survivor()).isEqualTo(B);
  }

  @Test
  void followerFailureTheLeaderContinuesAlone() throws IOException {
    // The follower is gone: no heartbeat from it, the leader records out of sync and renews.
    state.apply(GROUP, new Heartbeat(A, 1, A, true));
    Decision d = state.apply(GROUP, new OutOfSync(A, 1));
    assertThat(d.granted()).isTrue();
    clock.advanceMs(3000);
    assertThat(state.apply(GROUP, new RenewLease(A, 2)).granted()).isTrue();
    // The follower returns with its old epoch and learns it is stale.
    Decision back = state.apply(GROUP, new Heartbeat(B, 1, A, true));
    assertThat(back.reason()).isEqualTo(Reason.STALE_EPOCH);
    assertThat(back.relationship().survivor()).isEqualTo(A);
  }

  @Test
  void afterResyncTheSitesReportANewInSyncEpoch() throws IOException {
    state.apply(GROUP, new OutOfSync(A, 1));
    Decision synced = state.apply(GROUP, new Heartbeat(B, 3, A, true));
    assertThat(synced.granted()).isTrue();
    assertThat(synced.relationship().epoch()).isEqualTo(3);
    assertThat(synced.relationship().inSync()).isTrue();
    assertThat(synced.relationship().survivor()).isNull();
    assertThat(state.apply(GROUP, new Heartbeat(A, 3, A, true)).granted()).isTrue();
  }

  @Test
  void theSurvivorReportsItsPeerResyncedAndATakeoverBecomesPossibleAgain() throws IOException {
    state.apply(GROUP, new OutOfSync(A, 1)); // epoch 2, survivor A
    // The follower, resyncing, reports in sync first: it cannot know, so nothing changes.
    Decision early = state.apply(GROUP, new Heartbeat(B, 2, A, true));
    assertThat(early.granted()).isTrue();
    assertThat(early.relationship().inSync()).isFalse();
    // A view that lags the record is contact, not a conflict.
    assertThat(state.apply(GROUP, new Heartbeat(B, 2, A, false)).granted()).isTrue();
    Decision back = state.apply(GROUP, new Heartbeat(A, 2, A, true));
    assertThat(back.granted()).isTrue();
    assertThat(back.relationship().inSync()).isTrue();
    assertThat(back.relationship().epoch()).isEqualTo(2);
    assertThat(back.relationship().survivor()).isNull();
    // Now the leader's lease decides again, and a lost leader is replaced.
    clock.advanceMs(LEASE_MS + GRACE_MS);
    Decision takeover = state.apply(GROUP, new Takeover(B, 2));
    assertThat(takeover.granted()).isTrue();
    assertThat(takeover.relationship().epoch()).isEqualTo(3);
    assertThat(takeover.relationship().survivor()).isEqualTo(B);
  }

  @Test
  void anUnrecordedHandoverIsAdoptedOnlyAfterTheOldLeadersLease() throws IOException {
    state.apply(GROUP, new RenewLease(A, 1));
    // A handed the leadership to B at epoch 2; B lost A before reporting in sync.
    Decision early = state.apply(GROUP, new Heartbeat(B, 2, B, false));
    assertThat(early.granted()).isFalse();
    assertThat(early.reason()).isEqualTo(Reason.CONFLICT);
    clock.advanceMs(LEASE_MS + GRACE_MS);
    Decision adopted = state.apply(GROUP, new Heartbeat(B, 2, B, false));
    assertThat(adopted.granted()).isTrue();
    assertThat(adopted.relationship().epoch()).isEqualTo(2);
    assertThat(adopted.relationship().leader()).isEqualTo(B);
    assertThat(adopted.relationship().survivor()).isEqualTo(B);
    assertThat(state.apply(GROUP, new Takeover(A, 2)).reason()).isEqualTo(Reason.OUT_OF_SYNC);
  }

  @Test
  void aSurvivorsUnrecordedHandoverIsAdoptedAfterItsLease() throws IOException {
    // A is recorded as the survivor at epoch 2; it hands the leadership to B at epoch 3 (it lost
    // power, B holds every write) and B loses A before it can report in sync (simulation seed
    // 955073242637463870: refused for good, B held its sessions and the group never recovered).
    assertThat(state.apply(GROUP, new OutOfSync(A, 1)).granted()).isTrue();
    Decision early = state.apply(GROUP, new Heartbeat(B, 3, B, false));
    assertThat(early.granted()).isFalse();
    assertThat(early.reason()).isEqualTo(Reason.CONFLICT);
    clock.advanceMs(LEASE_MS + GRACE_MS);
    Decision adopted = state.apply(GROUP, new Heartbeat(B, 3, B, false));
    assertThat(adopted.granted()).isTrue();
    assertThat(adopted.relationship().epoch()).isEqualTo(3);
    assertThat(adopted.relationship().survivor()).isEqualTo(B);
    // The old survivor is fenced by the newer epoch.
    assertThat(state.apply(GROUP, new RenewLease(A, 2)).granted()).isFalse();
  }

  @Test
  void aRecordThatLagsTheSitesGrantsNothingUntilTheNewerEpochIsRecorded() throws IOException {
    // The record says in sync at epoch 1 (a backup restored); A actually went on alone at epoch 2.
    Decision ahead = state.apply(GROUP, new RenewLease(A, 2));
    assertThat(ahead.granted()).isFalse();
    clock.advanceMs(LEASE_MS + GRACE_MS);
    // Stale B asks to take over: granting would hand out epoch 2 again (seed 2888917800645480864).
    Decision takeover = state.apply(GROUP, new Takeover(B, 1));
    assertThat(takeover.granted()).isFalse();
    assertThat(takeover.reason()).isEqualTo(Reason.UNCONFIRMED);
    assertThat(takeover.relationship().epoch()).isEqualTo(1);
    // A's heartbeat gets its epoch recorded; then B is told A goes on alone.
    Decision adopted = state.apply(GROUP, new Heartbeat(A, 2, A, false));
    assertThat(adopted.granted()).isTrue();
    assertThat(adopted.relationship().survivor()).isEqualTo(A);
    assertThat(state.apply(GROUP, new Takeover(B, 1)).reason()).isEqualTo(Reason.OUT_OF_SYNC);
    assertThat(state.apply(GROUP, new RenewLease(A, 2)).granted()).isTrue();
  }

  @Test
  void aRecordRestoredFromABackupDecidesNothingUntilBothSitesReport() throws IOException {
    // The backup says in sync at epoch 1; B took over at epoch 2 since, and is down now.
    assertThat(state.distrustAll()).isEqualTo(1);
    state = reopen(); // the restored mediator starts
    clock.advanceMs(LEASE_MS + GRACE_MS);
    assertThat(state.apply(GROUP, new Heartbeat(A, 1, A, true)).granted()).isTrue();
    Decision alone = state.apply(GROUP, new OutOfSync(A, 1));
    assertThat(alone.granted()).as("A may not become the survivor: B may hold epoch 2").isFalse();
    assertThat(alone.reason()).isEqualTo(Reason.UNCONFIRMED);
    // B returns and reports its epoch: the record settles on it, and A is fenced.
    Decision confirmed = state.apply(GROUP, new Heartbeat(B, 2, B, false));
    assertThat(confirmed.relationship().epoch()).isEqualTo(2);
    assertThat(confirmed.relationship().survivor()).isEqualTo(B);
    assertThat(state.apply(GROUP, new RenewLease(A, 1)).granted()).isFalse();
  }

  @Test
  void mediatorFailurePreElectionBlocksATakeoverUntilTheLeaderRenews() throws IOException {
    state.apply(GROUP, new RenewLease(A, 1));
    // The leader lost the mediator; the sites pre-elect it; the follower records it here.
    assertThat(state.apply(GROUP, new PreElect(B, 1)).granted()).isTrue();
    clock.advanceMs(60_000);
    Decision d = state.apply(GROUP, new Takeover(B, 1));
    assertThat(d.granted()).isFalse();
    assertThat(d.reason()).isEqualTo(Reason.PRE_ELECTED);
    assertThat(d.relationship().preElected()).isEqualTo(A);
    // The leader is back in contact: the pre-election ends, the lease protocol resumes.
    assertThat(state.apply(GROUP, new RenewLease(A, 1)).relationship().preElected()).isNull();
    assertThat(state.apply(GROUP, new Takeover(B, 1)).reason()).isEqualTo(Reason.LEASE_VALID);
  }

  @Test
  void mediatorAndLinkFailureThePreElectedLeaderWentOnAloneAndIsAdopted() throws IOException {
    // The mediator knew nothing while it was down; the leader reports its out-of-sync epoch.
    Decision d = state.apply(GROUP, new Heartbeat(A, 2, A, false));
    assertThat(d.granted()).isTrue();
    assertThat(d.relationship().epoch()).isEqualTo(2);
    assertThat(d.relationship().survivor()).isEqualTo(A);
    clock.advanceMs(60_000);
    assertThat(state.apply(GROUP, new Takeover(B, 1)).reason()).isEqualTo(Reason.OUT_OF_SYNC);
  }

  @Test
  void aFollowerCannotClaimAHigherOutOfSyncEpochByHeartbeat() throws IOException {
    Decision d = state.apply(GROUP, new Heartbeat(B, 5, B, false));
    assertThat(d.granted()).isFalse();
    assertThat(d.reason()).isEqualTo(Reason.CONFLICT);
    assertThat(d.relationship().epoch()).isEqualTo(1);
  }

  @Test
  void aTakeoverAtAnOlderEpochIsStale() throws IOException {
    state.apply(GROUP, new Heartbeat(A, 4, A, true));
    clock.advanceMs(60_000);
    assertThat(state.apply(GROUP, new Takeover(B, 3)).reason()).isEqualTo(Reason.STALE_EPOCH);
    assertThat(state.apply(GROUP, new Takeover(A, 4)).reason()).isEqualTo(Reason.IS_LEADER);
  }

  @Test
  void forcedFailoverIsRecordedAboveEverythingAndFencesTheOtherSite() throws IOException {
    state.apply(GROUP, new OutOfSync(A, 1));
    Decision d = state.apply(GROUP, new ForcedFailover(B, 1, "site A burned down"));
    assertThat(d.granted()).isTrue();
    assertThat(d.relationship().epoch()).isEqualTo(3);
    assertThat(d.relationship().survivor()).isEqualTo(B);
    assertThat(state.apply(GROUP, new RenewLease(A, 2)).reason()).isEqualTo(Reason.FENCED);
  }

  @Test
  void aLostRecordRegisteredAgainByTheStaleSiteGrantsNothingUntilBothReport() throws IOException {
    // B led, died; A took over and goes on alone at epoch 2. Then the mediator loses the record.
    clock.advanceMs(LEASE_MS + GRACE_MS);
    assertThat(state.apply(GROUP, new Takeover(B, 1)).granted()).isTrue();
    state.remove(GROUP);
    // The stale site (A, still at epoch 1) reaches the mediator first and registers again.
    state.register(GROUP, A, B, A, 1);
    assertThat(state.apply(GROUP, new Heartbeat(A, 1, A, false)).granted()).isTrue();
    Decision alone = state.apply(GROUP, new OutOfSync(A, 1));
    assertThat(alone.granted()).isFalse();
    assertThat(alone.reason()).isEqualTo(Reason.UNCONFIRMED);
    assertThat(state.apply(GROUP, new Takeover(A, 1)).reason()).isEqualTo(Reason.UNCONFIRMED);
    assertThat(state.view(GROUP).survivor()).isNull();
    // The survivor reports its epoch: the record is confirmed at the highest one, B surviving.
    Decision confirmed = state.apply(GROUP, new Heartbeat(B, 2, B, false));
    assertThat(confirmed.granted()).isTrue();
    RelationshipView v = confirmed.relationship();
    assertThat(v.awaiting()).isEmpty();
    assertThat(v.epoch()).isEqualTo(2);
    assertThat(v.leader()).isEqualTo(B);
    assertThat(v.survivor()).isEqualTo(B);
    assertThat(state.apply(GROUP, new OutOfSync(A, 1)).granted()).isFalse();
    assertThat(state.apply(GROUP, new RenewLease(B, 2)).granted()).isTrue();
  }

  @Test
  void aForcedFailoverWaitsOutTheOldLeadersLease() throws IOException {
    state.apply(GROUP, new Heartbeat(A, 1, A, true));
    assertThat(state.apply(GROUP, new RenewLease(A, 1)).granted()).isTrue();
    clock.advanceMs(1000);
    Decision d = state.apply(GROUP, new ForcedFailover(B, 1, "site A looks gone"));
    assertThat(d.granted()).isTrue();
    assertThat(d.waitMs()).isEqualTo(LEASE_MS - 1000 + GRACE_MS);
    assertThat(d.message()).contains("runs " + (LEASE_MS - 1000 + GRACE_MS) + " ms more");
    // The old leader cannot extend what it holds: the record names B from now on.
    assertThat(state.apply(GROUP, new RenewLease(A, 1)).granted()).isFalse();
    clock.advanceMs(LEASE_MS + GRACE_MS);
    Decision later = state.apply(GROUP, new ForcedFailover(A, 2, "back to A"));
    assertThat(later.waitMs()).isZero();
  }

  @Test
  void restartKeepsTheRecordAndHonoursAnyLeaseGrantedBeforeTheCrash() throws IOException {
    state.apply(GROUP, new OutOfSync(A, 1));
    state.apply(GROUP, new Heartbeat(B, 3, A, true));
    clock.advanceMs(60_000);
    MediatorState again = reopen();
    RelationshipView v = again.view(GROUP);
    assertThat(v.epoch()).isEqualTo(3);
    assertThat(v.inSync()).isTrue();
    assertThat(v.sites()).anySatisfy(s -> assertThat(s.reportedEpoch()).isEqualTo(3));
    Decision d = again.apply(GROUP, new Takeover(B, 3));
    assertThat(d.reason()).isEqualTo(Reason.LEASE_VALID);
    assertThat(d.waitMs()).isEqualTo(LEASE_MS + GRACE_MS);
  }

  @Test
  void unknownGroupsAndStrangersAreTypedErrors() {
    assertThatThrownBy(() -> state.apply(UUID.randomUUID(), new Heartbeat(A, 1, A, true)))
        .isInstanceOfSatisfying(
            MediatorException.class, e -> assertThat(e.kind()).isEqualTo(Kind.NOT_FOUND));
    assertThatThrownBy(() -> state.apply(GROUP, new Heartbeat(UUID.randomUUID(), 1, A, true)))
        .isInstanceOfSatisfying(
            MediatorException.class, e -> assertThat(e.kind()).isEqualTo(Kind.FORBIDDEN));
    assertThatThrownBy(() -> state.register(GROUP, A, UUID.randomUUID(), A, 1))
        .isInstanceOfSatisfying(
            MediatorException.class, e -> assertThat(e.kind()).isEqualTo(Kind.CONFLICT));
    assertThatThrownBy(() -> state.register(UUID.randomUUID(), A, A, A, 1))
        .isInstanceOfSatisfying(
            MediatorException.class, e -> assertThat(e.kind()).isEqualTo(Kind.INVALID));
  }

  @Test
  void registeringAgainFromTheOtherSiteConfirms() throws IOException {
    state.apply(GROUP, new OutOfSync(A, 1));
    RelationshipView v = state.register(GROUP, B, A, B, 1);
    assertThat(v.epoch()).isEqualTo(2);
    assertThat(v.leader()).isEqualTo(A);
  }

  @Test
  void aDamagedRecordIsRefusedAtStartNamingTheFile() throws IOException {
    Path f = dir.resolve(MediatorState.DIR).resolve(GROUP.toString());
    byte[] bytes = Files.readAllBytes(f);
    bytes[bytes.length / 2] ^= 0x40;
    Files.write(f, bytes);
    assertThatThrownBy(this::reopen)
        .isInstanceOf(IOException.class)
        .hasMessageContaining(GROUP.toString());
  }

  @Test
  void removeForgetsTheGroupDurably() throws IOException {
    state.remove(GROUP);
    assertThat(reopen().views()).isEmpty();
  }
}
