package io.duet.node.mediator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.duet.mediator.MediatorClient;
import io.duet.mediator.MediatorConfig;
import io.duet.mediator.MediatorException;
import io.duet.sync.MediatorVerdict;
import io.duet.sync.MediatorVerdict.Refusal;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The adapter between the replication core and the mediator's HTTPS client, against a real mediator
 * on loopback: decisions become verdicts with the recorded state, the relationship is registered
 * when the mediator lacks it, and calls that get no decision complete exceptionally.
 */
class GroupMediatorTest {
  static final UUID A = UUID.randomUUID();
  static final UUID B = UUID.randomUUID();

  /** One mediator for the class (starting one creates a CA and a user): each test its group. */
  @TempDir static Path dir;

  static MediatorTestServer mediator;

  /** Each site logs in as its own user: the mediator lets a user act for one site only. */
  static MediatorClient clientA;

  static MediatorClient clientB;
  final UUID group = UUID.randomUUID();
  final AtomicInteger reached = new AtomicInteger();
  final AtomicReference<String> failure = new AtomicReference<>();

  @BeforeAll
  static void start() throws Exception {
    mediator = new MediatorTestServer(dir.resolve("m"));
    clientA = mediator.client(MediatorTestServer.USER_A);
    clientB = mediator.client(MediatorTestServer.USER_B);
  }

  @AfterAll
  static void stop() {
    clientA.close();
    clientB.close();
    mediator.close();
  }

  GroupMediator adapter(MediatorClient c, UUID self, UUID peer) {
    return new GroupMediator(
        c,
        group,
        self,
        peer,
        A,
        new GroupMediator.Contact() {
          @Override
          public void reached() {
            reached.incrementAndGet();
          }

          @Override
          public void failed(String message) {
            failure.set(message);
          }
        });
  }

  static MediatorVerdict await(CompletableFuture<MediatorVerdict> f) throws Exception {
    return f.get(30, TimeUnit.SECONDS);
  }

  static MediatorException failed(CompletableFuture<MediatorVerdict> f) {
    ExecutionException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            ExecutionException.class, () -> f.get(30, TimeUnit.SECONDS));
    assertThat(e.getCause()).isInstanceOf(MediatorException.class);
    return (MediatorException) e.getCause();
  }

  @Test
  void registersFirstAndMapsDecisionsToVerdicts() throws Exception {
    GroupMediator leader = adapter(clientA, A, B);
    GroupMediator follower = adapter(clientB, B, A);

    MediatorVerdict hb = await(leader.heartbeat(1, A, true));
    assertThat(hb.granted()).isTrue();
    assertThat(hb.refusal()).isEqualTo(Refusal.NONE);
    assertThat(hb.epoch()).isEqualTo(1);
    assertThat(hb.leader()).isEqualTo(A);
    assertThat(hb.inSync()).isTrue();
    assertThat(hb.survivor()).isNull();
    assertThat(clientA.relationship(group).leader()).isEqualTo(A);

    MediatorVerdict lease = await(leader.renewLease(1));
    assertThat(lease.granted()).isTrue();
    assertThat(lease.leaseMs()).isEqualTo(MediatorConfig.LEASE_MS_DEFAULT);

    // A new record decides nothing for the follower before it has reported its epoch.
    assertThat(await(follower.takeover(1)).refusal()).isEqualTo(Refusal.UNCONFIRMED);
    assertThat(await(follower.heartbeat(1, A, true)).granted()).isTrue();

    // The follower asks while the leader's lease runs: refused, with the time to wait.
    MediatorVerdict takeover = await(follower.takeover(1));
    assertThat(takeover.granted()).isFalse();
    assertThat(takeover.refusal()).isEqualTo(Refusal.LEASE_VALID);
    assertThat(takeover.waitMs()).isPositive();
    assertThat(takeover.message()).isNotBlank();
    assertThat(takeover.leader()).isEqualTo(A);

    // Only the leader renews: the follower is told why not.
    MediatorVerdict notLeader = await(follower.renewLease(1));
    assertThat(notLeader.refusal()).isEqualTo(Refusal.NOT_LEADER);
    assertThat(reached.get()).isEqualTo(6);
    assertThat(failure.get()).isNull();
  }

  @Test
  void registersAgainWhenTheMediatorForgotTheRelationship() throws Exception {
    GroupMediator leader = adapter(clientA, A, B);
    assertThat(await(leader.heartbeat(3, A, true)).epoch()).isEqualTo(3);
    clientA.remove(group);
    assertThatThrownBy(() -> clientA.relationship(group))
        .isInstanceOf(MediatorException.class)
        .extracting(e -> ((MediatorException) e).kind())
        .isEqualTo(MediatorException.Kind.NOT_FOUND);

    // Registered again with this site's view, the record waits for both sites' epochs: nothing
    // is recorded for one site alone, which may be the stale one.
    MediatorVerdict v = await(leader.outOfSync(3));
    assertThat(v.granted()).isFalse();
    assertThat(v.refusal()).isEqualTo(Refusal.UNCONFIRMED);
    assertThat(v.epoch()).isEqualTo(3);
    assertThat(clientA.relationship(group).awaiting()).containsExactlyInAnyOrder(A, B);
    GroupMediator follower = adapter(clientB, B, A);
    assertThat(await(leader.heartbeat(3, A, false)).granted()).isTrue();
    assertThat(await(follower.heartbeat(3, A, false)).granted()).isTrue();
    MediatorVerdict recorded = await(leader.outOfSync(3));
    assertThat(recorded.granted()).isTrue();
    assertThat(recorded.survivor()).isEqualTo(A);
  }

  @Test
  @SuppressWarnings("try") // the mediator is closed inside its try: it dies under the client
  void wrongCredentialsAndADeadMediatorCompleteExceptionally() throws Exception {
    try (MediatorClient wrong = mediator.client(MediatorTestServer.USER_A, "not-the-password")) {
      MediatorException e = failed(adapter(wrong, A, B).heartbeat(1, A, true));
      assertThat(e.kind()).isEqualTo(MediatorException.Kind.UNAUTHORIZED);
      assertThat(failure.get()).isNotBlank();
    }
    try (MediatorTestServer own = new MediatorTestServer(dir.resolve("dies"));
        MediatorClient c = own.client(MediatorTestServer.USER_A)) {
      GroupMediator leader = adapter(c, A, B);
      assertThat(await(leader.heartbeat(1, A, true)).granted()).isTrue();
      own.close();
      MediatorException e = failed(leader.renewLease(1));
      assertThat(e.kind()).isEqualTo(MediatorException.Kind.UNREACHABLE);
    }
  }

  @Test
  void aClosedAdapterRefusesAtOnce() throws Exception {
    GroupMediator leader = adapter(clientA, A, B);
    leader.close();
    ExecutionException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            ExecutionException.class, () -> leader.heartbeat(1, A, true).get(5, TimeUnit.SECONDS));
    assertThat(e.getCause()).isInstanceOf(IllegalStateException.class);
    assertThat(reached.get()).isZero();
  }
}
