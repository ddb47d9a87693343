package io.duet.scsi;

import io.duet.store.OutOfRangeException;
import io.duet.store.Volume;
import io.duet.store.VolumeIdentity;
import io.duet.store.VolumeUnavailableException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.BitSet;
import java.util.UUID;

/** An in-memory volume for tests: allocation tracked per block, failures injectable. */
final class RamVolume implements Volume {
  private final VolumeIdentity identity;
  private final int blockSize;
  private volatile long blockCount;
  private byte[] data;
  private final BitSet allocated = new BitSet();
  private final int unmapGranularity;
  volatile boolean failReads;
  volatile boolean failWrites;

  /** Every data operation throws VolumeUnavailableException, as a replica that must not serve. */
  volatile boolean unavailable;

  volatile int flushes;
  volatile int fuaWrites;
  volatile int atomicWrites;

  RamVolume(int blockSize, long blockCount) {
    this(blockSize, blockCount, blockSize);
  }

  RamVolume(int blockSize, long blockCount, int unmapGranularity) {
    byte[] naa = new byte[16];
    naa[0] = 0x60;
    naa[1] = 0x01;
    naa[15] = 0x2a;
    this.identity = new VolumeIdentity(UUID.nameUUIDFromBytes(naa), "vol", naa, "SERIAL0001");
    this.blockSize = blockSize;
    this.blockCount = blockCount;
    this.data = new byte[Math.toIntExact(blockSize * blockCount)];
    this.unmapGranularity = unmapGranularity;
  }

  synchronized void grow(long newBlockCount) {
    byte[] bigger = new byte[Math.toIntExact(blockSize * newBlockCount)];
    System.arraycopy(data, 0, bigger, 0, data.length);
    data = bigger;
    blockCount = newBlockCount;
  }

  @Override
  public VolumeIdentity identity() {
    return identity;
  }

  @Override
  public int blockSize() {
    return blockSize;
  }

  @Override
  public long blockCount() {
    return blockCount;
  }

  private void check(long offset, long length) {
    if (offset < 0
        || length < 0
        || offset % blockSize != 0
        || length % blockSize != 0
        || offset + length > (long) data.length) {
      throw new OutOfRangeException("bad range " + offset + "+" + length);
    }
  }

  @Override
  public synchronized void read(long offset, ByteBuffer dst) throws IOException {
    refuseIfUnavailable();
    check(offset, dst.remaining());
    if (failReads) {
      throw new IOException("injected read failure");
    }
    dst.put(data, (int) offset, dst.remaining());
  }

  @Override
  public synchronized void write(long offset, ByteBuffer src, boolean fua) throws IOException {
    refuseIfUnavailable();
    check(offset, src.remaining());
    if (failWrites) {
      throw new IOException("injected write failure");
    }
    int n = src.remaining();
    src.get(data, (int) offset, n);
    allocated.set((int) (offset / blockSize), (int) ((offset + n) / blockSize));
    if (fua) {
      fuaWrites++;
    }
  }

  /** Whole under the volume's lock, so no read sees part of it; counted for tests. */
  @Override
  public synchronized void writeAtomic(long offset, ByteBuffer src, boolean fua)
      throws IOException {
    if (src.remaining() > MAX_ATOMIC_WRITE_BYTES) {
      throw new IllegalArgumentException("atomic write too long: " + src.remaining());
    }
    write(offset, src, fua);
    atomicWrites++;
  }

  @Override
  public synchronized void flush() throws IOException {
    refuseIfUnavailable();
    if (failWrites) {
      throw new IOException("injected flush failure");
    }
    flushes++;
  }

  @Override
  public synchronized void unmap(long offset, long length) throws IOException {
    refuseIfUnavailable();
    check(offset, length);
    java.util.Arrays.fill(data, (int) offset, (int) (offset + length), (byte) 0);
    allocated.clear((int) (offset / blockSize), (int) ((offset + length) / blockSize));
  }

  @Override
  public synchronized void writeZeroes(long offset, long length, boolean mayDeallocate)
      throws IOException {
    check(offset, length);
    refuseIfUnavailable();
    java.util.Arrays.fill(data, (int) offset, (int) (offset + length), (byte) 0);
    int from = (int) (offset / blockSize);
    int to = (int) ((offset + length) / blockSize);
    if (mayDeallocate) {
      allocated.clear(from, to);
    } else {
      allocated.set(from, to);
    }
  }

  @Override
  public synchronized long compareAndWrite(
      long offset, ByteBuffer expected, ByteBuffer newData, boolean fua) throws IOException {
    refuseIfUnavailable();
    check(offset, expected.remaining());
    int n = expected.remaining();
    int m = ByteBuffer.wrap(data, (int) offset, n).mismatch(expected);
    if (m >= 0) {
      return m;
    }
    write(offset, newData, fua);
    return -1;
  }

  @Override
  public synchronized Extent allocation(long offset, long maxLength) {
    check(offset, 0);
    int first = (int) (offset / blockSize);
    boolean a = allocated.get(first);
    int end = a ? allocated.nextClearBit(first) : allocated.nextSetBit(first);
    long endBlock = end < 0 ? blockCount : Math.min(end, blockCount);
    long length = Math.min(maxLength, (endBlock - first) * blockSize);
    return new Extent(offset, length, a);
  }

  @Override
  public int unmapGranularityBytes() {
    return unmapGranularity;
  }

  synchronized byte[] bytes(long offset, int length) {
    byte[] b = new byte[length];
    System.arraycopy(data, (int) offset, b, 0, length);
    return b;
  }

  synchronized boolean isAllocated(long block) {
    return allocated.get((int) block);
  }

  private void refuseIfUnavailable() throws VolumeUnavailableException {
    if (unavailable) {
      throw new VolumeUnavailableException("injected: not served at this site");
    }
  }
}
