package io.duet.sync;

import io.duet.sync.ConsistencyGroupReplicator.PeerState;
import io.duet.sync.UnavailableException.Reason;
import io.duet.sync.digest.RegionDigests;
import io.duet.sync.proto.Message.DigestRequest;
import io.duet.sync.proto.Message.DigestResponse;
import io.duet.sync.proto.Message.RequestRefused;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Verify at the leader: for each batch of regions, the leader takes a shared hold on the range
 * (after the writes ordered before it, before those ordered after), sends the digest request,
 * digests its own copy and releases; the follower digests the same range in the same place of the
 * write order. Differing regions are reported and, on request, marked dirty and resynced by
 * restarting the session. One verify at a time, one batch in flight. Loop-confined.
 */
final class Verifier {
  static final int BATCH_REGIONS = 64;

  private final ConsistencyGroupReplicator g;
  private CompletableFuture<VerifyReport> running;
  private boolean repair;
  private int volume;
  private long nextRegion;
  private long requestId;
  private long[] local;
  private long[] remote;
  private long compared;
  private final List<VerifyReport.Region> differing = new ArrayList<>();
  private int sessionAtStart;

  Verifier(ConsistencyGroupReplicator g) {
    this.g = g;
  }

  void start(boolean repairDiffs, CompletableFuture<VerifyReport> f) {
    if (running != null) {
      f.completeExceptionally(new IllegalStateException("a verify is already running"));
      return;
    }
    if (!g.isLeader() || !g.sessionUp() || g.peerState != PeerState.IN_SYNC) {
      f.completeExceptionally(
          new IllegalStateException("verify runs at the leader of an in-sync group"));
      return;
    }
    running = f;
    repair = repairDiffs;
    volume = 0;
    nextRegion = 0;
    compared = 0;
    differing.clear();
    sessionAtStart = g.sessionNo();
    nextBatch();
  }

  private void nextBatch() {
    while (volume < g.volumes.size() && nextRegion >= g.volumes.get(volume).dirty().regionCount()) {
      volume++;
      nextRegion = 0;
    }
    if (volume >= g.volumes.size()) {
      finish();
      return;
    }
    VolumeReplica v = g.volumes.get(volume);
    long regionSize = v.dirty().regionSizeBytes();
    int count = (int) Math.min(BATCH_REGIONS, v.dirty().regionCount() - nextRegion);
    long offset = nextRegion * regionSize;
    long length = Math.min((long) count * regionSize, v.local().sizeBytes() - offset);
    long first = nextRegion;
    int vol = volume;
    nextRegion += count;
    requestId = g.newRequestId();
    local = null;
    remote = null;
    RangeSequencer seq = g.sequencer(vol);
    RangeSequencer.Entry[] slot = new RangeSequencer.Entry[1];
    long id = requestId;
    Runnable admitted =
        () -> {
          g.send(new DigestRequest(id, vol, first, count));
          ByteBuffer scratch = ByteBuffer.allocate((int) regionSize);
          long[][] out = new long[1][];
          g.runIo(
              () ->
                  out[0] =
                      RegionDigests.digests(v.local(), offset, (int) regionSize, count, scratch),
              err -> {
                seq.release(slot[0]);
                if (err != null) {
                  fail(err);
                } else if (id == requestId) {
                  local = out[0];
                  compare(vol, first);
                }
              });
        };
    slot[0] = seq.enqueue(offset, length, true, admitted);
  }

  void onResponse(DigestResponse m) {
    if (running == null || m.requestId() != requestId) {
      return;
    }
    remote = m.digests();
    compare(m.volume(), m.firstRegion());
  }

  /** Whether the refusal was for a verify request (then the verify fails). */
  boolean onRefused(RequestRefused m) {
    if (running == null || m.requestId() != requestId) {
      return false;
    }
    fail(new UnavailableException(Reason.PEER_LOST, "the peer refused to digest: " + m.reason()));
    return true;
  }

  void sessionLost() {
    if (running != null) {
      fail(new UnavailableException(Reason.PEER_LOST, "session lost during verify"));
    }
  }

  private void compare(int vol, long first) {
    if (local == null || remote == null) {
      return;
    }
    if (remote.length != local.length) {
      fail(new IOException("the peer digested " + remote.length + " regions, not " + local.length));
      return;
    }
    for (int i = 0; i < local.length; i++) {
      if (local[i] != remote[i]) {
        differing.add(new VerifyReport.Region(vol, first + i));
      }
    }
    compared += local.length;
    nextBatch();
  }

  private void finish() {
    CompletableFuture<VerifyReport> f = running;
    running = null;
    List<VerifyReport.Region> found = List.copyOf(differing);
    long regions = compared;
    if (!repair || found.isEmpty()) {
      f.complete(new VerifyReport(regions, found, false));
      return;
    }
    int at = sessionAtStart;
    // Marked off the loop (markDirty fdatasyncs); the session restarts once they are durable.
    g.runIo(
        () -> {
          for (VerifyReport.Region r : found) {
            long size = g.volumes.get(r.volume()).dirty().regionSizeBytes();
            g.volumes.get(r.volume()).dirty().markDirty(r.region() * size, size);
          }
        },
        err -> {
          if (err != null) {
            f.completeExceptionally(err);
            return;
          }
          if (g.sessionNo() == at) {
            // The follower re-handshakes and is resynced from the leader's (now dirty) regions.
            g.restartSession("verify found " + found.size() + " differing regions; repairing");
          }
          f.complete(new VerifyReport(regions, found, true));
        });
  }

  private void fail(IOException e) {
    CompletableFuture<VerifyReport> f = running;
    running = null;
    requestId = -1;
    if (f != null) {
      f.completeExceptionally(e);
    }
  }
}
