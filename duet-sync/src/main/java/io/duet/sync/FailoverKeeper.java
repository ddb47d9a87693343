package io.duet.sync;

/**
 * Automatic failover through the mediator (replication.md section 3). Loop-confined.
 */
final class FailoverKeeper {
  private final ConsistencyGroupReplicator g;
  private Mediator mediator = Mediator.NONE;

  FailoverKeeper(ConsistencyGroupReplicator g) {
    this.g = g;
  }

  void configure(Mediator next) {
    mediator = next;
  }

  ReplicationStatus.MediatorStatus status() {
    return ReplicationStatus.MediatorStatus.NONE;
  }
}
