package io.duet.sync;

import java.util.concurrent.CompletableFuture;

/**
 * One consistency group's connection to the third-site mediator, as the failover logic sees it: the
 * group and this site are bound in; every call carries the epoch this site holds. A call that does
 * not reach the mediator (network, timeout, TLS, authentication, the mediator down) completes
 * exceptionally; a refusal is an answer, not an error. Calls may complete on any thread. The
 * replicator issues at most one call at a time per group and composes each on its event loop, so
 * the mediator sees a site's requests in the order the site made its decisions.
 *
 * <p>Production adapts the HTTPS client of {@code duet-mediator}; the deterministic simulator
 * adapts the mediator's state machine behind a simulated network.
 */
public interface Mediator {
  /** This site is alive at {@code epoch} with this view of the leader and of the sync state. */
  CompletableFuture<MediatorVerdict> heartbeat(long epoch, java.util.UUID leader, boolean inSync);

  /** The leader extends its lease; the site counts it from before it called. */
  CompletableFuture<MediatorVerdict> renewLease(long epoch);

  /** The leader lost its follower and records that it goes on alone (epoch + 1, survivor). */
  CompletableFuture<MediatorVerdict> outOfSync(long epoch);

  /** The follower lost its leader and asks to go on alone; refused while the lease runs. */
  CompletableFuture<MediatorVerdict> takeover(long epoch);

  /** An operator promoted this site by force at {@code epoch}; the answer has the epoch to use. */
  CompletableFuture<MediatorVerdict> forcedFailover(long epoch, String reason);

  /**
   * No mediator configured: the leader continues on link failure, the follower turns unavailable,
   * and a lost leader is replaced only by a forced failover. Never called.
   */
  Mediator NONE =
      new Mediator() {
        private <T> CompletableFuture<T> none() {
          return CompletableFuture.failedFuture(
              new IllegalStateException("no mediator is configured"));
        }

        @Override
        public CompletableFuture<MediatorVerdict> heartbeat(
            long epoch, java.util.UUID leader, boolean inSync) {
          return none();
        }

        @Override
        public CompletableFuture<MediatorVerdict> renewLease(long epoch) {
          return none();
        }

        @Override
        public CompletableFuture<MediatorVerdict> outOfSync(long epoch) {
          return none();
        }

        @Override
        public CompletableFuture<MediatorVerdict> takeover(long epoch) {
          return none();
        }

        @Override
        public CompletableFuture<MediatorVerdict> forcedFailover(long epoch, String reason) {
          return none();
        }
      };
}
