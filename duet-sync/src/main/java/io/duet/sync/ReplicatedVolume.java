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
 * at both sites before it is acknowledged, reads linearizable across the sites. When this site
 * does not serve, every operation throws {@link UnavailableException}.
 *
 * <p>Writes larger than {@link FrameCodec#MAX_DATA_BYTES} are refused with an {@link
 * IllegalArgumentException}; front-ends advertise a smaller maximum transfer length.
 */
public final class ReplicatedVolume implements Volume {
  private final ConsistencyGroupReplicator group;
  private final int index;
  private final Volume local;

  ReplicatedVolume(ConsistencyGroupReplicator group, int index, Volume local) {
    this.group = group;
    this.index = index;
    this.local = local;
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
    if (length > FrameCodec.MAX_DATA_BYTES) {
      throw new IllegalArgumentException(
          "write of " + length + " bytes exceeds " + FrameCodec.MAX_DATA_BYTES);
    }
    if (length == 0) {
      return;
    }
    byte[] data = new byte[length];
    src.get(data);
    run(HostRequest.write(index, offset, length, kind, fua, data));
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
    run(HostRequest.write(index, offset, length, kind, false, new byte[0]));
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
    byte[] e = new byte[length];
    byte[] d = new byte[length];
    expected.duplicate().get(e);
    data.duplicate().get(d);
    return run(HostRequest.compareAndWrite(index, offset, fua, e, d));
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
    if (offset < 0 || length < 0 || offset % bs != 0 || length % bs != 0
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
