package io.duet.testkit.sim;

import io.duet.store.Volume;
import io.duet.store.VolumeIdentity;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;

/**
 * A volume of a site as its replicator sees it: the {@link SimDisk} (or one volume on it), except
 * that while the disk-errors fault is on, a share of reads and writes fail with an I/O error (EIO,
 * or ENOSPC for a write) and leave the media untouched, as a failing sector or a full thin pool
 * does. Flushes do not fail here: what a failed fsync leaves of the page cache is a separate fault
 * this simulator does not model yet.
 */
final class FailingDisk implements Volume {
  private final Volume disk;
  private SplittableRandom errors;
  private int percent;

  /** I/O errors returned so far. */
  long injected;

  FailingDisk(Volume disk) {
    this.disk = disk;
  }

  /** From now on {@code percent}% of reads and writes fail, drawn from {@code errors}. */
  void failSome(SplittableRandom errors, int percent) {
    this.errors = errors;
    this.percent = percent;
  }

  void heal() {
    errors = null;
  }

  private void maybeFail(boolean write) throws IOException {
    if (errors != null && errors.nextInt(100) < percent) {
      injected++;
      boolean full = write && errors.nextInt(4) == 0;
      throw new IOException(
          full
              ? "No space left on device (simulated ENOSPC)"
              : "Input/output error (simulated EIO)");
    }
  }

  @Override
  public VolumeIdentity identity() {
    return disk.identity();
  }

  @Override
  public int blockSize() {
    return disk.blockSize();
  }

  @Override
  public long blockCount() {
    return disk.blockCount();
  }

  @Override
  public void read(long offset, ByteBuffer dst) throws IOException {
    maybeFail(false);
    disk.read(offset, dst);
  }

  @Override
  public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
    maybeFail(true);
    disk.write(offset, src, fua);
  }

  @Override
  public void writeAtomic(long offset, ByteBuffer src, boolean fua) throws IOException {
    maybeFail(true);
    disk.writeAtomic(offset, src, fua);
  }

  @Override
  public void flush() throws IOException {
    disk.flush();
  }

  @Override
  public void unmap(long offset, long length) throws IOException {
    maybeFail(true);
    disk.unmap(offset, length);
  }

  @Override
  public void writeZeroes(long offset, long length, boolean mayDeallocate) throws IOException {
    maybeFail(true);
    disk.writeZeroes(offset, length, mayDeallocate);
  }

  @Override
  public long compareAndWrite(long offset, ByteBuffer expected, ByteBuffer data, boolean fua)
      throws IOException {
    maybeFail(true);
    return disk.compareAndWrite(offset, expected, data, fua);
  }

  @Override
  public Extent allocation(long offset, long maxLength) throws IOException {
    return disk.allocation(offset, maxLength);
  }

  @Override
  public int unmapGranularityBytes() {
    return disk.unmapGranularityBytes();
  }
}
