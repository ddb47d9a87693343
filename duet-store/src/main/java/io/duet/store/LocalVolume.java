package io.duet.store;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A volume stored in a local sparse file.
 *
 * <p>CONTRACT SKELETON — the implementation replaces these bodies.
 */
public final class LocalVolume implements Volume {
  private LocalVolume() {}

  private static UnsupportedOperationException skeleton() {
    return new UnsupportedOperationException("skeleton");
  }

  @Override public VolumeIdentity identity() { throw skeleton(); }
  @Override public int blockSize() { throw skeleton(); }
  @Override public long blockCount() { throw skeleton(); }
  @Override public void read(long offset, ByteBuffer dst) throws IOException { throw skeleton(); }
  @Override public void write(long offset, ByteBuffer src, boolean fua) throws IOException { throw skeleton(); }
  @Override public void flush() throws IOException { throw skeleton(); }
  @Override public void unmap(long offset, long length) throws IOException { throw skeleton(); }
  @Override public void writeZeroes(long offset, long length, boolean mayDeallocate) throws IOException { throw skeleton(); }
  @Override public long compareAndWrite(long offset, ByteBuffer expected, ByteBuffer data, boolean fua) throws IOException { throw skeleton(); }
  @Override public Extent allocation(long offset, long maxLength) throws IOException { throw skeleton(); }
  @Override public int unmapGranularityBytes() { throw skeleton(); }
}
