package io.duet.sync;

import java.util.concurrent.CompletableFuture;

/**
 * Where host I/O enters the loop: each request is refused while this site does not serve, held
 * while a switchover drains, and otherwise handed to the pipeline of this site's role. A read is
 * admitted once no write in flight overlaps it, and checked again then, since the site may have
 * stopped serving meanwhile. Loop-confined.
 */
final class HostGate {
  private final ConsistencyGroupReplicator g;

  HostGate(ConsistencyGroupReplicator g) {
    this.g = g;
  }

  /** Admits a read of {@code [offset, offset+length)} once no write in flight overlaps it. */
  CompletableFuture<RangeSequencer.Entry> admitRead(int volume, long offset, long length) {
    CompletableFuture<RangeSequencer.Entry> f = new CompletableFuture<>();
    g.post(
        () -> {
          UnavailableException u = g.unavailability();
          if (u != null) {
            f.completeExceptionally(u);
            return;
          }
          RangeSequencer seq = g.sequencer(volume);
          RangeSequencer.Entry[] slot = new RangeSequencer.Entry[1];
          // When admitted at once, enqueue runs the callback before slot[0] is set; handled below.
          slot[0] = seq.enqueue(offset, length, true, () -> readAdmitted(f, seq, slot[0]));
          if (slot[0].admitted()) {
            readAdmitted(f, seq, slot[0]);
          }
        });
    return f;
  }

  private void readAdmitted(
      CompletableFuture<RangeSequencer.Entry> f, RangeSequencer seq, RangeSequencer.Entry slot) {
    if (slot == null || f.isDone()) {
      return;
    }
    // Admitted, possibly later: the site may have stopped serving meanwhile.
    UnavailableException late = g.unavailability();
    if (late != null) {
      seq.release(slot);
      f.completeExceptionally(late);
    } else {
      f.complete(slot);
    }
  }

  void dispatchShared(SharedCommands.Call c) {
    UnavailableException u = g.unavailability();
    if (u != null) {
      c.done().completeExceptionally(u);
    } else if (g.handoffDraining()) {
      g.holdDuringHandoff(() -> dispatchShared(c));
    } else {
      g.shared.submit(c);
    }
  }

  void dispatchHost(HostRequest r) {
    UnavailableException u = g.unavailability();
    if (u != null) {
      r.done.completeExceptionally(u);
      return;
    }
    if (r.type == HostRequest.Type.FLUSH) {
      g.flushes.start(r);
    } else if (g.handoffDraining()) {
      g.holdDuringHandoff(() -> dispatchHost(r));
    } else if (g.isLeader()) {
      g.leader.submitHost(r);
    } else {
      g.follower.forward(r);
    }
  }
}
