package io.duet.sync;

import io.duet.sync.proto.FrameCodec;
import io.duet.sync.proto.Message.WritesApplied;
import io.duet.sync.proto.Message.WritesCommitted;
import java.util.Arrays;

/**
 * Per-write acknowledgements between the sites (the follower's "applied", the leader's
 * "committed"), gathered while the event loop works through what is queued and sent as one frame
 * per kind at the end of that pass. Under load this turns three frames per write into little more
 * than one; an idle loop sends at once. Nothing may depend on these arriving before a later frame
 * of another kind, except the handoff, which {@link #flush}es first. Loop-confined.
 */
final class AckBatcher {
  private final ConsistencyGroupReplicator g;
  private long[] applied = new long[64];
  private int appliedCount;
  private long[] committed = new long[64];
  private int committedCount;
  private boolean flushQueued;

  AckBatcher(ConsistencyGroupReplicator g) {
    this.g = g;
  }

  /** Follower: ordered write {@code seq} is applied here. */
  void applied(long seq) {
    if (appliedCount == applied.length) {
      applied = Arrays.copyOf(applied, applied.length * 2);
    }
    applied[appliedCount++] = seq;
    queueFlush(appliedCount);
  }

  /** Leader: ordered write {@code seq} is applied at both sites. */
  void committed(long seq) {
    if (committedCount == committed.length) {
      committed = Arrays.copyOf(committed, committed.length * 2);
    }
    committed[committedCount++] = seq;
    queueFlush(committedCount);
  }

  /** Sends what is gathered now. */
  void flush() {
    if (appliedCount > 0) {
      long[] seqs = Arrays.copyOf(applied, appliedCount);
      appliedCount = 0;
      g.send(new WritesApplied(seqs));
    }
    if (committedCount > 0) {
      long[] seqs = Arrays.copyOf(committed, committedCount);
      committedCount = 0;
      g.send(new WritesCommitted(seqs));
    }
  }

  /** The session ended: what was gathered belongs to it and is dropped. */
  void sessionLost() {
    appliedCount = 0;
    committedCount = 0;
  }

  private void queueFlush(int gathered) {
    if (gathered >= FrameCodec.MAX_LIST_ENTRIES) {
      flush(); // one message holds no more
      return;
    }
    if (!flushQueued) {
      flushQueued = true;
      // Behind every task already queued on the loop: their acknowledgements join this batch.
      g.post(
          () -> {
            flushQueued = false;
            flush();
          });
    }
  }
}
