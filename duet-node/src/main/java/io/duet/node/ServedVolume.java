package io.duet.node;

import io.duet.store.ForwardingVolume;
import io.duet.store.LocalVolume;
import io.duet.store.Volume;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.StampedLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The volume a unit and its NBD exports reach: the local volume, or, while the volume is in a
 * consistency group, the replicated one (or one that refuses I/O while the group cannot serve). A
 * switch waits until every operation started on the old volume has returned, so none of them can
 * land after the group has looked at the volume (its initial synchronization marks the allocated
 * extents) and slip past replication.
 */
final class ServedVolume extends ForwardingVolume {
  /** How long a switch waits for the operations in flight on the old volume. */
  static final long DRAIN_TIMEOUT_MS = 30_000;

  private static final Logger log = LoggerFactory.getLogger(ServedVolume.class);

  private final LocalVolume local;
  private final StampedLock switching = new StampedLock();

  ServedVolume(LocalVolume local) {
    super(local);
    this.local = local;
  }

  /**
   * Serves through {@code next} (same identity and size), or the local volume (null), once the
   * operations in flight have returned. New operations wait meanwhile.
   */
  void serve(Volume next) {
    Volume target = next == null ? local : next;
    long stamp;
    try {
      stamp = switching.tryWriteLock(DRAIN_TIMEOUT_MS, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stamp = 0;
    }
    if (stamp == 0) {
      // An operation is stuck on the old volume: switch anyway rather than stall the site.
      log.warn(
          "volume {}: operations still running after {} ms; switching without them",
          local.identity().name(),
          DRAIN_TIMEOUT_MS);
      redirect(target);
      return;
    }
    try {
      redirect(target);
    } finally {
      switching.unlockWrite(stamp);
    }
  }

  /** One operation on the current volume, which may not be switched while it runs. */
  @FunctionalInterface
  private interface Operation {
    void run() throws IOException;
  }

  private void locked(Operation op) throws IOException {
    long stamp = switching.readLock();
    try {
      op.run();
    } finally {
      switching.unlockRead(stamp);
    }
  }

  @Override
  public void read(long offset, ByteBuffer dst) throws IOException {
    locked(() -> super.read(offset, dst));
  }

  @Override
  public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
    locked(() -> super.write(offset, src, fua));
  }

  @Override
  public void writeAtomic(long offset, ByteBuffer src, boolean fua) throws IOException {
    locked(() -> super.writeAtomic(offset, src, fua));
  }

  @Override
  public void flush() throws IOException {
    locked(super::flush);
  }

  @Override
  public void unmap(long offset, long length) throws IOException {
    locked(() -> super.unmap(offset, length));
  }

  @Override
  public void writeZeroes(long offset, long length, boolean mayDeallocate) throws IOException {
    locked(() -> super.writeZeroes(offset, length, mayDeallocate));
  }

  @Override
  public long compareAndWrite(long offset, ByteBuffer expected, ByteBuffer data, boolean fua)
      throws IOException {
    long stamp = switching.readLock();
    try {
      return super.compareAndWrite(offset, expected, data, fua);
    } finally {
      switching.unlockRead(stamp);
    }
  }
}
