package io.duet.sync;

import io.duet.store.OutOfRangeException;
import io.duet.store.Volume;
import io.duet.store.VolumeIdentity;
import io.duet.sync.proto.FrameCodec;
import io.duet.sync.proto.Message.WriteKind;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * One volume of a synchronously replicated consistency group, as hosts at this site see it: the
 * same identity, size and block size as the local volume (and as the peer's), every write applied
 * at both sites before it is acknowledged, reads linearizable across the sites. When this site does
 * not serve, every operation throws {@link UnavailableException}.
 *
 * <p>A large write, unmap or zeroing is replicated as consecutive chunks of at most {@link
 * FrameCodec#MAX_DATA_BYTES} (and a few activity-log extents), a few in flight at once; like a
 * disk, it is atomic per block only. Atomic writes (at most {@link Volume#MAX_ATOMIC_WRITE_BYTES})
 * and compare-and-write (at most {@link FrameCodec#MAX_DATA_BYTES}) are never split.
 */
public final class ReplicatedVolume implements Volume {
  /** Chunks of one large operation in flight at once. */
  static final int CHUNKS_IN_FLIGHT = 4;

  /** Activity-log extents one chunk may span (so a few chunks never exhaust the log). */
  private static final long EXTENTS_PER_CHUNK = 8;

  private final ConsistencyGroupReplicator group;
  private final int index;
  private final Volume local;
  private final long chunkBytes;

  ReplicatedVolume(
      ConsistencyGroupReplicator group, int index, Volume local, long extentSizeBytes) {
    this.group = group;
    this.index = index;
    this.local = local;
    long chunk = Math.min(FrameCodec.MAX_DATA_BYTES, EXTENTS_PER_CHUNK * extentSizeBytes);
    this.chunkBytes = Math.max(local.blockSize(), chunk - chunk % local.blockSize());
  }

  @Override
  public VolumeIdentity identity() {
    return local.identity();
  }

  @Override
  public int blockSize() {
    return local.blockSize();
  }

  @Override
  public long blockCount() {
    return local.blockCount();
  }

  @Override
  public void read(long offset, ByteBuffer dst) throws IOException {
    int length = dst.remaining();
    checkRange(offset, length);
    if (length == 0) {
      return;
    }
    RangeSequencer.Entry slot = await(group.admitRead(index, offset, length));
    try {
      local.read(offset, dst);
    } finally {
      group.releaseSlot(index, slot);
    }
  }

  @Override
  public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
    writeData(offset, src, fua, WriteKind.WRITE);
  }

  @Override
  public void writeAtomic(long offset, ByteBuffer src, boolean fua) throws IOException {
    if (src.remaining() > MAX_ATOMIC_WRITE_BYTES) {
      throw new IllegalArgumentException(
          "atomic write of " + src.remaining() + " bytes exceeds " + MAX_ATOMIC_WRITE_BYTES);
    }
    writeData(offset, src, fua, WriteKind.WRITE_ATOMIC);
  }

  private void writeData(long offset, ByteBuffer src, boolean fua, WriteKind kind)
      throws IOException {
    int length = src.remaining();
    checkRange(offset, length);
    if (length == 0) {
      return;
    }
    if (kind == WriteKind.WRITE_ATOMIC || length <= chunkBytes) {
      group.dataBudget.acquire(length);
      try {
        byte[] data = new byte[length];
        src.get(data);
        run(HostRequest.write(index, offset, length, kind, fua, data));
      } finally {
        group.dataBudget.release(length);
      }
      return;
    }
    runChunked(
        offset,
        length,
        true,
        (at, n) -> {
          byte[] data = new byte[(int) n];
          src.get(data); // chunks are made in offset order, so src is consumed in order
          return HostRequest.write(index, at, n, kind, fua, data);
        });
  }

  @Override
  public void flush() throws IOException {
    run(HostRequest.flush(index));
  }

  @Override
  public void unmap(long offset, long length) throws IOException {
    zeroLike(offset, length, WriteKind.UNMAP);
  }

  @Override
  public void writeZeroes(long offset, long length, boolean mayDeallocate) throws IOException {
    zeroLike(offset, length, mayDeallocate ? WriteKind.ZEROES : WriteKind.ZEROES_KEEP);
  }

  private void zeroLike(long offset, long length, WriteKind kind) throws IOException {
    checkRange(offset, length);
    if (length == 0) {
      return;
    }
    runChunked(
        offset,
        length,
        false,
        (at, n) -> HostRequest.write(index, at, n, kind, false, new byte[0]));
  }

  /** Makes the request for one chunk {@code [at, at + n)}. */
  private interface ChunkRequest {
    HostRequest make(long at, long n);
  }

  /**
   * Replicates {@code [offset, offset + length)} as chunks cut at multiples of the chunk size, in
   * offset order, at most {@link #CHUNKS_IN_FLIGHT} at a time (bounding memory and activity-log
   * extents); chunks that carry data also hold their share of the group's data budget. On a failure
   * no further chunk starts; the ones started are awaited, so nothing of this call is in flight
   * when it throws the first error.
   */
  private void runChunked(long offset, long length, boolean carriesData, ChunkRequest chunk)
      throws IOException {
    java.util.ArrayDeque<HostRequest> started = new java.util.ArrayDeque<>();
    IOException failure = null;
    RuntimeException bug = null;
    long at = offset;
    long end = offset + length;
    while ((at < end && failure == null && bug == null) || !started.isEmpty()) {
      if (at < end && failure == null && bug == null && started.size() < CHUNKS_IN_FLIGHT) {
        long n = Math.min(end, (at / chunkBytes + 1) * chunkBytes) - at;
        try {
          group.dataBudget.acquire(carriesData ? n : 0);
        } catch (InterruptedIOException e) {
          failure = e;
          continue;
        }
        HostRequest r;
        try {
          r = chunk.make(at, n);
        } catch (RuntimeException e) {
          group.dataBudget.release(carriesData ? n : 0);
          bug = e;
          continue;
        }
        group.submit(r);
        started.add(r);
        at += n;
        continue;
      }
      HostRequest r = started.poll();
      try {
        await(r.done);
      } catch (IOException e) {
        failure = failure == null ? e : failure;
      } catch (RuntimeException e) {
        bug = bug == null ? e : bug;
      } finally {
        group.dataBudget.release(carriesData ? r.length : 0);
      }
    }
    if (failure != null) {
      throw failure;
    }
    if (bug != null) {
      throw bug;
    }
  }

  @Override
  public long compareAndWrite(long offset, ByteBuffer expected, ByteBuffer data, boolean fua)
      throws IOException {
    if (expected.remaining() != data.remaining()) {
      throw new IllegalArgumentException("expected and data lengths differ");
    }
    int length = data.remaining();
    checkRange(offset, length);
    if (length > FrameCodec.MAX_DATA_BYTES) {
      throw new IllegalArgumentException("compare-and-write of " + length + " bytes is too long");
    }
    group.dataBudget.acquire(2L * length);
    try {
      byte[] e = new byte[length];
      byte[] d = new byte[length];
      expected.duplicate().get(e);
      data.duplicate().get(d);
      return run(HostRequest.compareAndWrite(index, offset, fua, e, d));
    } finally {
      group.dataBudget.release(2L * length);
    }
  }

  @Override
  public Extent allocation(long offset, long maxLength) throws IOException {
    UnavailableException u = await(statusCheck());
    if (u != null) {
      throw u;
    }
    return local.allocation(offset, maxLength);
  }

  @Override
  public int unmapGranularityBytes() {
    return local.unmapGranularityBytes();
  }

  @Override
  public String toString() {
    return "ReplicatedVolume[" + local.identity().name() + "]";
  }

  private CompletableFuture<UnavailableException> statusCheck() {
    CompletableFuture<UnavailableException> f = new CompletableFuture<>();
    group.post(() -> f.complete(group.unavailability()));
    return f;
  }

  private long run(HostRequest r) throws IOException {
    group.submit(r);
    return await(r.done);
  }

  private void checkRange(long offset, long length) {
    int bs = local.blockSize();
    if (offset < 0
        || length < 0
        || offset % bs != 0
        || length % bs != 0
        || offset > local.sizeBytes() - length) {
      throw new OutOfRangeException(
          "range [" + offset + ", +" + length + ") is unaligned or outside " + local.sizeBytes());
    }
  }

  private static <T> T await(CompletableFuture<T> f) throws IOException {
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted waiting for replication (outcome unknown)");
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof IOException io) {
        throw io;
      }
      if (cause instanceof RuntimeException re) {
        throw re;
      }
      throw new IOException(cause);
    }
  }
}
