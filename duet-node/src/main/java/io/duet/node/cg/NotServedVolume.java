package io.duet.node.cg;

import io.duet.store.ForwardingVolume;
import io.duet.store.Volume;
import io.duet.store.VolumeUnavailableException;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A group volume while its group cannot run here (no link to the peer, its state failed to open):
 * identity and size as always, but every I/O refused as unavailable (SCSI 02/04/0C, NBD EIO), as
 * this site cannot know whether it is current.
 */
final class NotServedVolume extends ForwardingVolume {
  private final String why;

  NotServedVolume(Volume local, String why) {
    super(local);
    this.why = why;
  }

  private VolumeUnavailableException refused() {
    return new VolumeUnavailableException(why);
  }

  @Override
  public void read(long offset, ByteBuffer dst) throws IOException {
    throw refused();
  }

  @Override
  public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
    throw refused();
  }

  @Override
  public void writeAtomic(long offset, ByteBuffer src, boolean fua) throws IOException {
    throw refused();
  }

  @Override
  public void flush() throws IOException {
    throw refused();
  }

  @Override
  public void unmap(long offset, long length) throws IOException {
    throw refused();
  }

  @Override
  public void writeZeroes(long offset, long length, boolean mayDeallocate) throws IOException {
    throw refused();
  }

  @Override
  public long compareAndWrite(long offset, ByteBuffer expected, ByteBuffer data, boolean fua)
      throws IOException {
    throw refused();
  }

  @Override
  public Extent allocation(long offset, long maxLength) throws IOException {
    throw refused();
  }
}
