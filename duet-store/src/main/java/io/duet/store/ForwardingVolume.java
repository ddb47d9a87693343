package io.duet.store;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A volume that passes every call to another one. Subclasses override the calls they change: a
 * volume presented under another identity, a fault-injecting disk for tests and the simulator, a
 * volume that counts or delays I/O, a volume whose backing a node swaps at run time.
 */
public abstract class ForwardingVolume implements Volume {
  private volatile Volume delegate;

  protected ForwardingVolume(Volume delegate) {
    this.delegate = java.util.Objects.requireNonNull(delegate, "delegate");
  }

  /** The volume calls are passed to. */
  protected final Volume delegate() {
    return delegate;
  }

  /**
   * Passes later calls to {@code next} (a volume served locally that joins a replicated group, and
   * back). Calls already running finish on the old delegate. The caller keeps identity and size
   * equal, as hosts must not see the volume change.
   */
  protected final void redirect(Volume next) {
    this.delegate = java.util.Objects.requireNonNull(next, "next");
  }

  @Override
  public VolumeIdentity identity() {
    return delegate.identity();
  }

  @Override
  public int blockSize() {
    return delegate.blockSize();
  }

  @Override
  public long blockCount() {
    return delegate.blockCount();
  }

  @Override
  public void read(long offset, ByteBuffer dst) throws IOException {
    delegate.read(offset, dst);
  }

  @Override
  public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
    delegate.write(offset, src, fua);
  }

  @Override
  public void writeAtomic(long offset, ByteBuffer src, boolean fua) throws IOException {
    delegate.writeAtomic(offset, src, fua);
  }

  @Override
  public void flush() throws IOException {
    delegate.flush();
  }

  @Override
  public void unmap(long offset, long length) throws IOException {
    delegate.unmap(offset, length);
  }

  @Override
  public void writeZeroes(long offset, long length, boolean mayDeallocate) throws IOException {
    delegate.writeZeroes(offset, length, mayDeallocate);
  }

  @Override
  public long compareAndWrite(long offset, ByteBuffer expected, ByteBuffer data, boolean fua)
      throws IOException {
    return delegate.compareAndWrite(offset, expected, data, fua);
  }

  @Override
  public Extent allocation(long offset, long maxLength) throws IOException {
    return delegate.allocation(offset, maxLength);
  }

  @Override
  public int unmapGranularityBytes() {
    return delegate.unmapGranularityBytes();
  }
}
