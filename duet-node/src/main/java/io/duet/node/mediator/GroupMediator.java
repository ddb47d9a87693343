package io.duet.node.mediator;

import io.duet.mediator.Decision;
import io.duet.mediator.MediatorClient;
import io.duet.mediator.MediatorException;
import io.duet.mediator.RelationshipView;
import io.duet.sync.Mediator;
import io.duet.sync.MediatorVerdict;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * One consistency group's {@link Mediator} over this site's HTTPS {@link MediatorClient}: each
 * blocking call runs on its own virtual thread and completes the future with the mediator's
 * decision as a {@link MediatorVerdict}. The relationship is registered before the first call and
 * again when the mediator answers that it does not know it (it was removed, or the mediator lost
 * its data). A call that gets no decision (unreachable, timed out, refused credentials, any other
 * error) completes exceptionally with the {@link MediatorException}. After {@link #close()} calls
 * fail at once.
 */
final class GroupMediator implements Mediator, AutoCloseable {
  /** Told whether each call reached the mediator (the site shows it). */
  interface Contact {
    void reached();

    void failed(String message);
  }

  /** One blocking call to the mediator. */
  @FunctionalInterface
  private interface Call {
    Decision call() throws MediatorException;
  }

  private final MediatorClient client;
  private final UUID group;
  private final UUID self;
  private final UUID peer;
  private final Contact contact;
  private final String threadName;

  /** The leader as last reported or recorded; registers a relationship the mediator lacks. */
  private volatile UUID knownLeader;

  private volatile boolean registered;
  private volatile boolean closed;

  /**
   * @param leaderHint the leader as this site knows it before any call (the group's record)
   */
  GroupMediator(
      MediatorClient client, UUID group, UUID self, UUID peer, UUID leaderHint, Contact contact) {
    this.client = Objects.requireNonNull(client, "client");
    this.group = Objects.requireNonNull(group, "group");
    this.self = Objects.requireNonNull(self, "self");
    this.peer = Objects.requireNonNull(peer, "peer");
    this.knownLeader = Objects.requireNonNull(leaderHint, "leaderHint");
    this.contact = Objects.requireNonNull(contact, "contact");
    this.threadName = "mediator-" + group;
  }

  @Override
  public CompletableFuture<MediatorVerdict> heartbeat(long epoch, UUID leader, boolean inSync) {
    Objects.requireNonNull(leader, "leader");
    return run(leader, epoch, () -> client.heartbeat(group, self, epoch, leader, inSync));
  }

  @Override
  public CompletableFuture<MediatorVerdict> renewLease(long epoch) {
    // Only the leader renews: if the mediator must learn the relationship now, this site leads.
    return run(self, epoch, () -> client.renewLease(group, self, epoch));
  }

  @Override
  public CompletableFuture<MediatorVerdict> outOfSync(long epoch) {
    return run(self, epoch, () -> client.outOfSync(group, self, epoch));
  }

  @Override
  public CompletableFuture<MediatorVerdict> takeover(long epoch) {
    // The follower asks: the peer leads as far as it knows.
    return run(peer, epoch, () -> client.requestTakeover(group, self, epoch));
  }

  @Override
  public CompletableFuture<MediatorVerdict> forcedFailover(long epoch, String reason) {
    String why = reason == null ? "" : reason;
    return run(knownLeader, epoch, () -> client.forcedFailover(group, self, epoch, why));
  }

  private CompletableFuture<MediatorVerdict> run(UUID leader, long epoch, Call call) {
    CompletableFuture<MediatorVerdict> f = new CompletableFuture<>();
    if (closed) {
      f.completeExceptionally(new IllegalStateException("the mediator connection was replaced"));
      return f;
    }
    Thread.ofVirtual().name(threadName).start(() -> complete(f, leader, epoch, call));
    return f;
  }

  private void complete(CompletableFuture<MediatorVerdict> f, UUID leader, long epoch, Call call) {
    try {
      Decision d;
      try {
        register(leader, epoch, false);
        d = call.call();
      } catch (MediatorException e) {
        if (e.kind() != MediatorException.Kind.NOT_FOUND) {
          throw e;
        }
        register(leader, epoch, true);
        d = call.call();
      }
      MediatorVerdict v = verdict(d);
      knownLeader = v.leader();
      contact.reached();
      f.complete(v);
    } catch (MediatorException | RuntimeException e) {
      contact.failed(e.getMessage() == null ? e.toString() : e.getMessage());
      f.completeExceptionally(e);
    }
  }

  private void register(UUID leader, long epoch, boolean again) throws MediatorException {
    if (registered && !again) {
      return;
    }
    RelationshipView v = client.register(group, self, peer, leader, Math.max(1, epoch));
    if (v.leader() != null) {
      knownLeader = v.leader();
    }
    registered = true;
  }

  /**
   * The mediator's decision as the replication core reads it; the reasons have the same names on
   * both sides. A reason this site does not know counts as a refusal that contradicts the record.
   *
   * @throws MediatorException INTERNAL when the answer lacks the recorded state
   */
  static MediatorVerdict verdict(Decision d) throws MediatorException {
    RelationshipView r = d.relationship();
    if (r == null || r.leader() == null || d.reason() == null) {
      throw new MediatorException(
          MediatorException.Kind.INTERNAL, "the mediator answered without the recorded state");
    }
    MediatorVerdict.Refusal refusal = refusal(d.reason());
    if (!d.granted() && refusal == MediatorVerdict.Refusal.NONE) {
      // Refused without a reason: the safe reading is a contradiction, never a grant.
      refusal = MediatorVerdict.Refusal.CONFLICT;
    }
    // A "granted" answer that names a reason is read as the refusal: never grant on doubt.
    boolean granted = refusal == MediatorVerdict.Refusal.NONE;
    return new MediatorVerdict(
        granted,
        refusal,
        d.message() == null ? "" : d.message(),
        Math.max(0, d.waitMs()),
        Math.max(0, d.leaseMs()),
        r.epoch(),
        r.leader(),
        r.inSync(),
        r.survivor());
  }

  static MediatorVerdict.Refusal refusal(Decision.Reason reason) {
    try {
      return MediatorVerdict.Refusal.valueOf(reason.name());
    } catch (IllegalArgumentException e) {
      return MediatorVerdict.Refusal.CONFLICT;
    }
  }

  /** Later calls fail at once; calls in flight finish (or fail when the client is closed). */
  @Override
  public void close() {
    closed = true;
  }
}
