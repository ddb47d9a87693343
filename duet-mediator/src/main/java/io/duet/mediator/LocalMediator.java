package io.duet.mediator;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Objects;
import java.util.UUID;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The mediator's state machine in-process, without HTTP: the same rules and the same durable
 * records as {@code duet mediator run}, on an injected clock. For the deterministic simulator and
 * for tests that need a mediator without a server. Calls are serialized; each answer is durable
 * before it returns, as over REST.
 */
public final class LocalMediator {
  private final MediatorState state;

  private LocalMediator(MediatorState state) {
    this.state = state;
  }

  /**
   * Opens (or creates) the mediator's records under {@code dataDir}. Leases recorded before are
   * treated as just renewed, as after a restart of the real mediator.
   *
   * @param leaseMs the leader's lease
   * @param graceMs the margin after a lease before a takeover is granted
   * @param nanoTime a monotonic clock for leases
   * @param wallClock the time stored and shown for people
   */
  public static LocalMediator open(
      Path dataDir, long leaseMs, long graceMs, LongSupplier nanoTime, Supplier<Instant> wallClock)
      throws IOException {
    Objects.requireNonNull(nanoTime, "nanoTime");
    Objects.requireNonNull(wallClock, "wallClock");
    MediatorClock clock =
        new MediatorClock() {
          @Override
          public long nanoTime() {
            return nanoTime.getAsLong();
          }

          @Override
          public Instant now() {
            return wallClock.get();
          }
        };
    return new LocalMediator(
        MediatorState.open(dataDir, new FailoverRules(leaseMs, graceMs), clock));
  }

  /** Records a relationship, or answers the one recorded when the same sites register again. */
  public RelationshipView register(UUID group, UUID siteA, UUID siteB, UUID leader, long epoch)
      throws MediatorException {
    return state.register(group, siteA, siteB, leader, epoch);
  }

  /** As {@link MediatorServer#restoredFromBackup}, for a mediator in this process. */
  public int restoredFromBackup() throws MediatorException {
    return state.distrustAll();
  }

  /** Forgets {@code group}'s record (as a DELETE, or a data directory replaced by an empty one). */
  public void remove(UUID group) throws MediatorException {
    state.remove(group);
  }

  /** The recorded state of {@code group}. */
  public RelationshipView view(UUID group) throws MediatorException {
    return state.view(group);
  }

  public Decision heartbeat(UUID group, UUID site, long epoch, UUID leader, boolean inSync)
      throws MediatorException {
    return state.apply(group, new Request.Heartbeat(site, epoch, leader, inSync));
  }

  public Decision renewLease(UUID group, UUID site, long epoch) throws MediatorException {
    return state.apply(group, new Request.RenewLease(site, epoch));
  }

  public Decision outOfSync(UUID group, UUID site, long epoch) throws MediatorException {
    return state.apply(group, new Request.OutOfSync(site, epoch));
  }

  public Decision takeover(UUID group, UUID site, long epoch) throws MediatorException {
    return state.apply(group, new Request.Takeover(site, epoch));
  }

  public Decision preElect(UUID group, UUID site, long epoch) throws MediatorException {
    return state.apply(group, new Request.PreElect(site, epoch));
  }

  public Decision forcedFailover(UUID group, UUID site, long epoch, String reason)
      throws MediatorException {
    return state.apply(group, new Request.ForcedFailover(site, epoch, reason));
  }
}
