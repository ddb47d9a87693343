package io.duet.sync.dirty;

import io.duet.store.CorruptMetadataException;
import io.duet.sync.dirty.ActivityLogFormat.Geometry;
import io.duet.sync.dirty.ActivityLogFormat.Txn;
import io.duet.sync.dirty.ActivityLogRecovery.Limits;
import io.duet.sync.dirty.ActivityLogRecovery.Recovered;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.System.Logger.Level;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * An {@link ActivityLog} in one small file (format: {@code ActivityLogFormat}), after DRBD's
 * activity log. At most {@code maxActiveExtents} extents are active; each carries a count of writes
 * in flight. A write into active extents only bumps their counters (lock-free). A write into an
 * inactive extent adds it — evicting the least recently used idle extent when the set is full, or
 * waiting, bounded, for one to fall idle ({@link ActivityLogBusyException}) — and writes the new
 * set as one CRC32C-framed transaction, fdatasynced before beginWrite returns; concurrent callers
 * share one transaction and one fdatasync (group commit).
 *
 * <p>Recovery ({@link #activeAtOpen()}): the newest valid transaction on open. A clean {@link
 * #close()} writes an empty set. When the file exists but holds no valid transaction at all (or its
 * header is damaged), the whole volume is reported: nothing proves any region clean. The ranges
 * reported at open stay in every transaction until {@link #releaseActiveAtOpen()}, so a second
 * crash before the caller recorded them cannot lose them.
 */
public final class ActivityLogFile implements ActivityLog {
  /** Default extent (4 MiB, as DRBD). */
  public static final long EXTENT_SIZE_DEFAULT_BYTES = 4L << 20;

  /**
   * Default number of active extents (DRBD's al-extents default): 1237 x 4 MiB keep ~4.8 GiB hot. A
   * working set larger than the log pays a transaction and an fdatasync for nearly every write (127
   * extents made 4 KiB random writes over 1 GiB ~10x slower); a crash resyncs at most this much,
   * and a transaction is ~10 KiB.
   */
  public static final int MAX_ACTIVE_EXTENTS_DEFAULT = 1237;

  /** How long beginWrite waits for an idle extent when all active ones are busy. */
  public static final long BUSY_WAIT_DEFAULT_MS = 5_000;

  private static final System.Logger LOG = System.getLogger(ActivityLogFile.class.getName());

  /** One active extent. {@code refs} is -1 once evicted, so a racing increment fails. */
  private static final class Slot {
    final AtomicInteger refs;
    final long ticket; // the group-commit ticket that records this extent
    volatile boolean durable;
    volatile long lastUse;

    Slot(long ticket, long lastUse) {
      this.refs = new AtomicInteger(1);
      this.ticket = ticket;
      this.lastUse = lastUse;
    }
  }

  private final Path file;
  private final FileChannel channel;
  private final Geometry geometry;
  private final int extentShift;
  private final int maxActive;
  private final long busyWaitNanos;
  private final List<Range> activeAtOpen;
  private final ConcurrentHashMap<Long, Slot> active = new ConcurrentHashMap<>();
  private final AtomicLong useClock = new AtomicLong();
  private final AtomicInteger spaceWaiters = new AtomicInteger();
  private final AtomicLong fdatasyncs = new AtomicLong();

  /**
   * Makes the data written so far durable (the volume's fdatasync): what must hold before an extent
   * leaves the log.
   */
  @FunctionalInterface
  public interface DataBarrier {
    void makeDurable() throws IOException;
  }

  /**
   * Run before any extent leaves the log (eviction, {@link #releaseActiveAtOpen}, {@link #close}).
   * Writes complete in the page cache, so an extent whose writes are done may still hold data a
   * power loss takes away: it may leave the log only once that data is durable, or a restart would
   * not know to resync it.
   */
  private final DataBarrier dataBarrier;

  /** Test seam, off (null) by default: runs in the writer before each transaction's I/O. */
  volatile Runnable beforeTransactionIo;

  // Guarded by lock. Inserting and evicting slots also happen only under it.
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private long[] carried; // extents from activeAtOpen, kept until released
  private boolean carriedWholeVolume;
  private long requestedTicket;
  private long durableTicket;
  private long nextSeq;
  private boolean writing;
  private boolean closed;

  private ActivityLogFile(
      Path file, FileChannel channel, Recovered r, Limits l, DataBarrier dataBarrier) {
    this.file = file;
    this.dataBarrier = dataBarrier;
    this.channel = channel;
    this.geometry = r.geometry();
    this.extentShift = Long.numberOfTrailingZeros(geometry.extentSizeBytes());
    this.maxActive = l.maxActive();
    this.busyWaitNanos = l.busyWait().toNanos();
    this.activeAtOpen = r.ranges();
    this.carried = r.extents();
    this.carriedWholeVolume = r.wholeVolume();
    this.nextSeq = r.nextSeq();
  }

  /**
   * Opens (or creates) the activity log in {@code file}, waiting at most {@link
   * #BUSY_WAIT_DEFAULT_MS} for an idle extent when all are busy.
   *
   * @param extentSizeBytes a power of two; may differ from the file's (the file is then rewritten,
   *     keeping what it reported)
   * @param dataBarrier makes the volume's data written so far durable (its fdatasync): run before
   *     any extent leaves the log
   * @throws CorruptMetadataException the file was written by a newer format version
   */
  public static ActivityLogFile open(
      Path file,
      long volumeSizeBytes,
      long extentSizeBytes,
      int maxActiveExtents,
      DataBarrier dataBarrier)
      throws IOException {
    return open(
        file,
        volumeSizeBytes,
        extentSizeBytes,
        maxActiveExtents,
        Duration.ofMillis(BUSY_WAIT_DEFAULT_MS),
        dataBarrier);
  }

  /**
   * As {@link #open(Path, long, long, int, DataBarrier)} with an explicit bound on the all-busy
   * wait.
   */
  public static ActivityLogFile open(
      Path file,
      long volumeSizeBytes,
      long extentSizeBytes,
      int maxActiveExtents,
      Duration busyWait,
      DataBarrier dataBarrier)
      throws IOException {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(busyWait, "busyWait");
    Objects.requireNonNull(dataBarrier, "dataBarrier");
    if (volumeSizeBytes <= 0) {
      throw new IllegalArgumentException("volume size " + volumeSizeBytes + " is not positive");
    }
    if (extentSizeBytes <= 0 || Long.bitCount(extentSizeBytes) != 1) {
      throw new IllegalArgumentException("extent size " + extentSizeBytes + " is not a power of 2");
    }
    if (maxActiveExtents < 1 || maxActiveExtents > ActivityLogFormat.MAX_CAPACITY / 2) {
      throw new IllegalArgumentException("max active extents " + maxActiveExtents);
    }
    Limits limits = new Limits(volumeSizeBytes, extentSizeBytes, maxActiveExtents, busyWait);
    Recovered r = ActivityLogRecovery.recover(file, limits);
    FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
    return new ActivityLogFile(file, ch, r, limits, dataBarrier);
  }

  @Override
  public long extentSizeBytes() {
    return geometry.extentSizeBytes();
  }

  @Override
  public List<Range> activeAtOpen() {
    return activeAtOpen;
  }

  @Override
  public void beginWrite(long offset, long length) throws IOException {
    if (offset < 0 || length < 0 || length > Long.MAX_VALUE - offset) {
      throw new IllegalArgumentException("bad range [" + offset + ", +" + length + ")");
    }
    if (length == 0) {
      return;
    }
    long first = offset >>> extentShift;
    long last = (offset + length - 1) >>> extentShift;
    if (last - first >= maxActive) {
      throw new IllegalArgumentException(
          "a write of " + length + " bytes spans more than " + maxActive + " active extents");
    }
    long e = first;
    while (e <= last && tryAcquireDurable(e)) {
      e++;
    }
    if (e > last) {
      return; // the common case: every extent already active and recorded
    }
    try {
      acquireSlow(e, last);
    } catch (IOException | RuntimeException | Error t) {
      release(first, e - 1);
      throw t;
    }
  }

  private boolean tryAcquireDurable(long extent) {
    Slot s = active.get(extent);
    if (s == null || !s.durable) {
      return false;
    }
    for (int r = s.refs.get(); r >= 0; r = s.refs.get()) {
      if (s.refs.compareAndSet(r, r + 1)) {
        return true;
      }
    }
    return false; // evicted under our feet
  }

  /** Takes references on {@code [from, last]}, adding missing extents, and waits until durable. */
  private void acquireSlow(long from, long last) throws IOException {
    lock.lock();
    try {
      long ticket = admit(from, last);
      while (durableTicket < ticket) {
        if (writing) {
          changed.awaitUninterruptibly();
        } else {
          try {
            writeTransaction();
          } catch (IOException | RuntimeException | Error t) {
            release(from, last);
            throw t;
          }
        }
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Under the lock: makes room, references every extent of {@code [from, last]} and returns the
   * ticket whose transaction makes them all durable (0 when they already are).
   */
  private long admit(long from, long last) throws IOException {
    long remainingNanos = busyWaitNanos;
    // Counted before looking: an endWrite that frees a slot after our look then sees a waiter.
    spaceWaiters.incrementAndGet();
    try {
      while (true) {
        ensureOpen();
        int missing = 0;
        for (long e = from; e <= last; e++) {
          missing += active.containsKey(e) ? 0 : 1;
        }
        int shortBy = missing - (maxActive - active.size());
        if (shortBy <= 0) {
          return reference(from, last);
        }
        if (evictIdle(shortBy, from, last) > 0) {
          continue; // made some room; look again before waiting
        }
        if (remainingNanos <= 0) {
          throw new ActivityLogBusyException(
              "activity log "
                  + file
                  + ": all "
                  + maxActive
                  + " active extents stayed busy for "
                  + Duration.ofNanos(busyWaitNanos).toMillis()
                  + " ms");
        }
        remainingNanos = changed.awaitNanos(remainingNanos);
      }
    } catch (InterruptedException ie) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted waiting for an idle extent");
    } finally {
      spaceWaiters.decrementAndGet();
    }
  }

  private record Idle(long extent, long lastUse) {}

  /**
   * Evicts up to {@code count} idle extents outside {@code [from, last]}, least recently used
   * first; returns how many. Evicts nothing unless {@code count} are idle: a partial eviction would
   * shrink the set without admitting anyone.
   */
  private int evictIdle(int count, long from, long last) throws IOException {
    List<Idle> idle = new ArrayList<>();
    active.forEach(
        (e, s) -> {
          if (s.refs.get() == 0 && (e < from || e > last)) {
            idle.add(new Idle(e, s.lastUse)); // snapshot: lastUse moves under a sort otherwise
          }
        });
    if (idle.size() < count) {
      return 0;
    }
    idle.sort((a, b) -> Long.compare(a.lastUse(), b.lastUse()));
    dataBarrier.makeDurable();
    int evicted = 0;
    for (Idle i : idle) {
      if (evicted == count) {
        break;
      }
      Slot s = active.get(i.extent());
      // Unchanged since the snapshot (a write that ended after it moved lastUse: its data may
      // postdate the barrier) and still idle (the CAS fails if a writer just took it).
      if (s.lastUse == i.lastUse() && s.refs.compareAndSet(0, -1)) {
        active.remove(i.extent());
        evicted++;
      }
    }
    return evicted;
  }

  private long reference(long from, long last) {
    long ticket = 0;
    boolean added = false;
    for (long e = from; e <= last; e++) {
      Slot s = active.get(e);
      if (s == null) {
        added = true;
        continue;
      }
      // Under the lock nothing evicts, so a present slot's count is >= 0 and this cannot fail.
      int r = s.refs.getAndIncrement();
      assert r >= 0 : "present slot was evicted";
      if (!s.durable) {
        ticket = Math.max(ticket, s.ticket); // added by another writer, transaction pending
      }
    }
    if (added) {
      long mine = ++requestedTicket;
      for (long e = from; e <= last; e++) {
        active.computeIfAbsent(e, k -> new Slot(mine, useClock.incrementAndGet()));
      }
      ticket = mine;
    }
    return ticket;
  }

  /**
   * Under the lock, as the only writer: writes the current set as the next transaction and
   * fdatasyncs, with the lock released during the I/O.
   */
  private void writeTransaction() throws IOException {
    ensureOpen();
    writing = true;
    long batch = requestedTicket;
    Txn txn = new Txn(nextSeq++, carriedWholeVolume, currentSet());
    lock.unlock();
    boolean ok = false;
    try {
      Runnable hook = beforeTransactionIo;
      if (hook != null) {
        hook.run();
      }
      FreshFile.writeFully(channel, ActivityLogFormat.encode(txn), geometry.slotOffset(txn.seq()));
      channel.force(false);
      fdatasyncs.incrementAndGet();
      ok = true;
    } finally {
      lock.lock();
      if (ok) {
        durableTicket = batch;
        active.forEach(
            (e, s) -> {
              if (s.ticket <= batch) {
                s.durable = true;
              }
            });
      }
      writing = false;
      changed.signalAll();
    }
  }

  private long[] currentSet() {
    long[] set = new long[active.size() + carried.length];
    int n = 0;
    for (long e : active.keySet()) {
      set[n++] = e;
    }
    System.arraycopy(carried, 0, set, n, carried.length);
    n += carried.length;
    return Arrays.stream(set, 0, n).distinct().sorted().toArray();
  }

  @Override
  public void endWrite(long offset, long length) {
    if (offset < 0 || length <= 0 || length > Long.MAX_VALUE - offset) {
      return; // beginWrite recorded nothing for such a range
    }
    release(offset >>> extentShift, (offset + length - 1) >>> extentShift);
  }

  private void release(long first, long last) {
    boolean freed = false;
    for (long e = first; e <= last; e++) {
      Slot s = active.get(e);
      if (s == null) {
        throw new IllegalStateException("endWrite of extent " + e + " that has no write in flight");
      }
      s.lastUse = useClock.incrementAndGet();
      int r = s.refs.decrementAndGet();
      if (r < 0) {
        s.refs.incrementAndGet();
        throw new IllegalStateException("endWrite of extent " + e + " without a beginWrite");
      }
      freed |= r == 0;
    }
    if (freed && spaceWaiters.get() > 0) {
      lock.lock();
      try {
        changed.signalAll();
      } finally {
        lock.unlock();
      }
    }
  }

  /**
   * Drops the ranges reported at open from later transactions and writes one now, so a crash from
   * here on reports only extents active since. Their data is made durable first: after a process
   * crash the page cache still holds writes no record would point to once they leave the log.
   */
  @Override
  public void releaseActiveAtOpen() throws IOException {
    lock.lock();
    try {
      if (carried.length == 0 && !carriedWholeVolume) {
        return;
      }
      dataBarrier.makeDurable();
      carried = new long[0];
      carriedWholeVolume = false;
      commitNow();
    } finally {
      lock.unlock();
    }
  }

  @Override
  public boolean releaseIdle() throws IOException {
    lock.lock();
    try {
      ensureOpen();
      List<Idle> idle = new ArrayList<>();
      active.forEach(
          (e, s) -> {
            if (s.refs.get() == 0 && s.durable) {
              idle.add(new Idle(e, s.lastUse));
            }
          });
      if (idle.isEmpty()) {
        return active.isEmpty() && carried.length == 0 && !carriedWholeVolume;
      }
      dataBarrier.makeDurable();
      boolean removed = false;
      for (Idle i : idle) {
        Slot s = active.get(i.extent());
        // As evictIdle: only if no write ended or began since the snapshot.
        if (s != null && s.lastUse == i.lastUse() && s.refs.compareAndSet(0, -1)) {
          active.remove(i.extent());
          removed = true;
        }
      }
      if (removed) {
        commitNow();
      }
      return active.isEmpty() && carried.length == 0 && !carriedWholeVolume;
    } finally {
      lock.unlock();
    }
  }

  private void commitNow() throws IOException {
    long ticket = ++requestedTicket;
    while (durableTicket < ticket) {
      if (writing) {
        changed.awaitUninterruptibly();
      } else {
        writeTransaction();
      }
    }
  }

  /**
   * Writes the final set and closes the file: empty after a clean stop (no write in flight, the
   * ranges reported at open released), so the next open reports nothing. The volume's data is made
   * durable before the set shrinks: a power loss right after a clean stop must not take writes the
   * log no longer names. If that fails, the file keeps its last set (the next open reports those
   * extents) and the failure is thrown. Idempotent.
   */
  @Override
  public void close() throws IOException {
    lock.lock();
    try {
      if (closed) {
        return;
      }
      try {
        long busy = active.values().stream().filter(s -> s.refs.get() > 0).count();
        if (busy > 0) {
          LOG.log(
              Level.WARNING,
              "activity log {0} closed with {1} extents busy; they stay recorded",
              file,
              busy);
        }
        dataBarrier.makeDurable();
        active.values().removeIf(s -> s.refs.compareAndSet(0, -1));
        commitNow();
      } finally {
        closed = true;
        channel.close();
      }
    } finally {
      lock.unlock();
    }
  }

  private void ensureOpen() throws IOException {
    if (closed) {
      throw new IOException("activity log " + file + " is closed");
    }
  }

  /** Test seam: fdatasyncs issued for transactions. */
  long fdatasyncCount() {
    return fdatasyncs.get();
  }

  /** Test seam: whether a beginWrite is looking for room (or waiting for it). */
  boolean isWaitingForSpace() {
    return spaceWaiters.get() > 0;
  }

  /** Test seam: extents active now. */
  int activeCount() {
    return active.size();
  }

  @Override
  public String toString() {
    return "ActivityLogFile[" + file + ", " + active.size() + "/" + maxActive + " active]";
  }
}
