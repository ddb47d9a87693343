package io.duet.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The per-volume redo journal behind {@link LocalVolume#writeAtomic}: every atomic write is first
 * appended here as a CRC32C-framed {@link JournalFrame} and made durable, and only then written in
 * place. A crash during the in-place write leaves a whole record that {@link #open} replays, so the
 * range ends up all new; a crash during the append leaves a torn record that is ignored, and the
 * in-place write never started, so the range is all old.
 *
 * <p>Retiring records. A record may be dropped once its in-place write is durable. It must be
 * dropped before a <em>later</em> write to the same range is promised durable (flush, FUA), or a
 * replay would bring the older atomic data back over it. So {@link #retire} — data fdatasync, then
 * truncate the journal, then fdatasync the journal — runs on every flush and FUA write that finds
 * the journal non-empty, and whenever the journal is full. Until then a later write that was never
 * flushed may be undone by a replay, which is exactly what a volatile write cache permits.
 *
 * <p>Locking. Atomic writes hold the read side of {@code gate} from append to the end of their
 * in-place write; {@link #retire} takes the write side, so it never drops a record whose in-place
 * write is still running. Appends are serialized by {@code appendLock}, which keeps the file a
 * contiguous run of frames: when an append's fdatasync returns, every frame before it is durable
 * too, so the scan at open (which stops at the first invalid frame) never loses an acknowledged
 * record. Callers take their range lock before the gate, never the other way round.
 */
final class AtomicJournal implements AutoCloseable {
  static final String FILE_NAME = "atomic.journal";

  /** Bounded journal: 64 atomic writes of the maximum size before a forced retire. */
  static final long CAPACITY_DEFAULT_BYTES = 64L << 20;

  /** The in-place half of an atomic write, run while its record is durable and still held. */
  @FunctionalInterface
  interface InPlaceWrite {
    void run() throws IOException;
  }

  private final Path path;
  private final DataChannel log;
  private final NativeFile logNative;
  private final DataChannel data;
  private final long capacityBytes;
  private final ReentrantReadWriteLock gate = new ReentrantReadWriteLock();
  private final ReentrantLock appendLock = new ReentrantLock();
  private final int replayedRecords;

  /** Next sequence number; guarded by appendLock. */
  private long nextSequence;

  /** End of the last appended frame; written under appendLock or the gate's write side. */
  private volatile long endBytes;

  private AtomicJournal(
      Path path,
      DataChannel log,
      NativeFile logNative,
      DataChannel data,
      long capacityBytes,
      long nextSequence,
      int replayedRecords) {
    this.path = path;
    this.log = log;
    this.logNative = logNative;
    this.data = data;
    this.capacityBytes = capacityBytes;
    this.nextSequence = nextSequence;
    this.replayedRecords = replayedRecords;
  }

  /**
   * Opens (creating if needed) the journal at {@code path}, replays its whole records into {@code
   * data} in sequence order, makes them durable and empties the journal.
   *
   * @param volumeBytes the volume's size; a valid record outside it means the journal belongs to
   *     something else, reported as {@link CorruptMetadataException}
   */
  static AtomicJournal open(
      Path path, DataChannel data, long volumeBytes, int blockSize, long capacityBytes)
      throws IOException {
    if (capacityBytes < JournalFrame.frameBytes(Volume.MAX_ATOMIC_WRITE_BYTES)) {
      throw new IllegalArgumentException(
          "journal capacity " + capacityBytes + " cannot hold one maximum atomic write");
    }
    if (!Files.exists(path)) {
      Files.createFile(path);
      // The journal's directory entry must be durable before any record in it is relied on.
      AtomicFile.fsyncDirectory(path.toAbsolutePath().getParent());
    }
    DataChannel log = new DataChannel(path);
    NativeFile logNative = null;
    try {
      logNative = NativeFile.open(path);
      Replay replay = replay(path, log, data, volumeBytes, blockSize);
      if (log.size() > 0) {
        // Replayed data durable first: only then may the records that carry it go.
        data.fdatasync();
        logNative.ftruncate(0);
        log.fdatasync();
      }
      return new AtomicJournal(
          path, log, logNative, data, capacityBytes, replay.nextSequence, replay.records);
    } catch (IOException | RuntimeException e) {
      log.close();
      if (logNative != null) {
        logNative.close();
      }
      throw e;
    }
  }

  private record Replay(int records, long nextSequence) {}

  /** Applies every whole record from the start; stops at the first torn or invalid one. */
  private static Replay replay(
      Path path, DataChannel log, DataChannel data, long volumeBytes, int blockSize)
      throws IOException {
    long size = log.size();
    long position = 0;
    long lastSequence = 0;
    int records = 0;
    while (true) {
      JournalFrame frame = JournalFrame.read(log, position, size, Volume.MAX_ATOMIC_WRITE_BYTES);
      if (frame == null || frame.sequence() <= lastSequence) {
        // A torn append (never acknowledged), or bytes that do not continue the sequence.
        break;
      }
      long offset = frame.offset();
      int length = frame.data().remaining();
      if (offset < 0
          || offset % blockSize != 0
          || length % blockSize != 0
          || offset > volumeBytes - length) {
        throw new CorruptMetadataException(
            path,
            "record "
                + frame.sequence()
                + " writes ["
                + offset
                + ", +"
                + length
                + ") outside a volume of "
                + volumeBytes
                + " bytes with "
                + blockSize
                + "-byte blocks");
      }
      data.writeFully(frame.data().duplicate(), offset);
      lastSequence = frame.sequence();
      position += frame.bytes();
      records++;
    }
    return new Replay(records, lastSequence + 1);
  }

  /**
   * Makes {@code src} durable in the journal, then runs {@code inPlace} (which writes the same data
   * into the volume) while the record is protected from {@link #retire}. The caller holds the
   * exclusive range lock, so overlapping atomic writes reach the journal and the volume in the same
   * order. {@code src}'s position is not moved.
   */
  void logThenApply(long offset, ByteBuffer src, InPlaceWrite inPlace) throws IOException {
    long frameBytes = JournalFrame.frameBytes(src.remaining());
    assert frameBytes <= capacityBytes;
    append(offset, src, frameBytes); // returns holding the gate's read side
    try {
      log.fdatasync();
      inPlace.run();
    } finally {
      gate.readLock().unlock();
    }
  }

  /** Appends one frame, retiring the journal first when it is full; leaves the read gate held. */
  private void append(long offset, ByteBuffer src, long frameBytes) throws IOException {
    while (true) {
      gate.readLock().lock();
      boolean appended = false;
      appendLock.lock();
      try {
        long at = endBytes;
        if (at + frameBytes <= capacityBytes) {
          writeFrame(at, nextSequence, offset, src);
          nextSequence++;
          endBytes = at + frameBytes;
          appended = true;
          return;
        }
      } finally {
        appendLock.unlock();
        if (!appended) {
          gate.readLock().unlock();
        }
      }
      retire(); // full: make the applied records' data durable and start over
    }
  }

  /**
   * Writes the frame at {@code at}. On failure nothing is advanced, so the next append overwrites
   * the partial frame; a crash leaves it torn, which the scan treats as the end.
   */
  private void writeFrame(long at, long sequence, long offset, ByteBuffer src) throws IOException {
    ByteBuffer header = JournalFrame.header(sequence, offset, src.remaining());
    ByteBuffer trailer = JournalFrame.trailer(header, src);
    log.writeFully(header.duplicate(), at);
    log.writeFully(src.duplicate(), at + JournalFrame.HEADER_BYTES);
    log.writeFully(trailer, at + JournalFrame.HEADER_BYTES + src.remaining());
  }

  /** Whether records are waiting to be retired (one volatile read: the FUA fast path). */
  boolean hasRecords() {
    return endBytes > 0;
  }

  /**
   * Makes the volume's data durable and drops every record, once no atomic write is between its
   * append and the end of its in-place write.
   *
   * @return false when the journal was already empty (nothing was synced)
   */
  boolean retire() throws IOException {
    if (endBytes == 0) {
      return false;
    }
    gate.writeLock().lock();
    try {
      if (endBytes == 0) {
        return false;
      }
      data.fdatasync();
      logNative.ftruncate(0);
      log.fdatasync();
      endBytes = 0;
      return true;
    } finally {
      gate.writeLock().unlock();
    }
  }

  /** Bytes of records not yet retired (tests, diagnostics). */
  long sizeBytes() {
    return endBytes;
  }

  /** How many records {@link #open} replayed (tests, diagnostics). */
  int replayedRecords() {
    return replayedRecords;
  }

  Path path() {
    return path;
  }

  /** Closes the journal file; its records stay for the next open to replay. */
  @Override
  public void close() throws IOException {
    try {
      log.close();
    } finally {
      logNative.close();
    }
  }
}
