package io.duet.testkit.sim;

import io.duet.store.ForwardingVolume;
import io.duet.store.Volume;
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
final class FailingDisk extends ForwardingVolume {
  private SplittableRandom errors;
  private int percent;

  FailingDisk(Volume disk) {
    super(disk);
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
      boolean full = write && errors.nextInt(4) == 0;
      throw new IOException(
          full
              ? "No space left on device (simulated ENOSPC)"
              : "Input/output error (simulated EIO)");
    }
  }

  @Override
  public void read(long offset, ByteBuffer dst) throws IOException {
    maybeFail(false);
    super.read(offset, dst);
  }

  @Override
  public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
    maybeFail(true);
    super.write(offset, src, fua);
  }

  @Override
  public void writeAtomic(long offset, ByteBuffer src, boolean fua) throws IOException {
    maybeFail(true);
    super.writeAtomic(offset, src, fua);
  }

  @Override
  public void unmap(long offset, long length) throws IOException {
    maybeFail(true);
    super.unmap(offset, length);
  }

  @Override
  public void writeZeroes(long offset, long length, boolean mayDeallocate) throws IOException {
    maybeFail(true);
    super.writeZeroes(offset, length, mayDeallocate);
  }

  @Override
  public long compareAndWrite(long offset, ByteBuffer expected, ByteBuffer data, boolean fua)
      throws IOException {
    maybeFail(true);
    return super.compareAndWrite(offset, expected, data, fua);
  }
}
