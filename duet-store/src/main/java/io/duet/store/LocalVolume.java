package io.duet.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A volume stored in a local sparse file: data through positional {@code FileChannel} I/O (many
 * threads at once), unmap, zeroing and allocation through Linux {@code fallocate} and {@code
 * lseek(SEEK_DATA/SEEK_HOLE)} (FFM), flush and FUA through {@code fdatasync}. Instances come from
 * {@link VolumeStore}.
 *
 * <p>Unmapped blocks read as zeros. {@link #compareAndWrite} is atomic against every write,
 * zeroing, unmap and compare-and-write made through this object. {@link #writeAtomic} goes through
 * a redo journal next to the data file ({@link AtomicJournal}), replayed when the volume opens.
 */
public final class LocalVolume implements Volume {
  /** Hole granularity: ext4/xfs deallocate whole 4 KiB file-system blocks. */
  static final int UNMAP_GRANULARITY_BYTES = 4096;

  /** How often an interrupted in-place atomic write is retried before giving up. */
  private static final int MAX_IN_PLACE_RETRIES = 8;

  private final VolumeIdentity identity;
  private final int blockSize;
  private final Path dataFile;
  private final DataChannel io;
  private final NativeFile nativeFile;
  private final RangeLock rangeLock = new RangeLock();
  private final AtomicJournal journal;
  private final AtomicReadFence readFence = new AtomicReadFence();
  private volatile long sizeBytes;
  // Learned on first failure so an unsupporting file system costs one failed syscall, not many.
  private volatile boolean punchSupported = true;
  private volatile boolean zeroRangeSupported = true;

  private LocalVolume(
      VolumeIdentity identity,
      int blockSize,
      long sizeBytes,
      Path dataFile,
      DataChannel io,
      NativeFile nativeFile,
      AtomicJournal journal) {
    this.identity = identity;
    this.blockSize = blockSize;
    this.sizeBytes = sizeBytes;
    this.dataFile = dataFile;
    this.io = io;
    this.nativeFile = nativeFile;
    this.journal = journal;
  }

  /** Creates the data file (which must not exist) sized {@code sizeBytes}, all unallocated. */
  static LocalVolume create(Path dataFile, VolumeIdentity identity, long sizeBytes, int blockSize)
      throws IOException {
    Files.createFile(dataFile);
    return open(dataFile, identity, sizeBytes, blockSize);
  }

  /**
   * Opens an existing data file; extends it to {@code sizeBytes} if a resize was interrupted, and
   * replays the atomic-write journal (creating it if missing).
   */
  static LocalVolume open(Path dataFile, VolumeIdentity identity, long sizeBytes, int blockSize)
      throws IOException {
    return open(dataFile, identity, sizeBytes, blockSize, AtomicJournal.CAPACITY_DEFAULT_BYTES);
  }

  /** As {@link #open(Path, VolumeIdentity, long, int)} with the journal's bound given (tests). */
  static LocalVolume open(
      Path dataFile,
      VolumeIdentity identity,
      long sizeBytes,
      int blockSize,
      long journalCapacityBytes)
      throws IOException {
    Objects.requireNonNull(identity, "identity");
    checkGeometry(sizeBytes, blockSize);
    NativeFile nativeFile = NativeFile.open(dataFile);
    DataChannel io = null;
    AtomicJournal journal;
    try {
      io = new DataChannel(dataFile);
      if (io.size() < sizeBytes) {
        nativeFile.ftruncate(sizeBytes);
      }
      journal =
          AtomicJournal.open(journalFile(dataFile), io, sizeBytes, blockSize, journalCapacityBytes);
    } catch (IOException | RuntimeException e) {
      if (io != null) {
        io.close();
      }
      nativeFile.close();
      throw e;
    }
    return new LocalVolume(identity, blockSize, sizeBytes, dataFile, io, nativeFile, journal);
  }

  /** The atomic-write journal of the volume whose data file is {@code dataFile}. */
  static Path journalFile(Path dataFile) {
    return dataFile.resolveSibling(AtomicJournal.FILE_NAME);
  }

  static void checkGeometry(long sizeBytes, int blockSize) {
    if (blockSize != 512 && blockSize != 4096) {
      throw new IllegalArgumentException("block size must be 512 or 4096, not " + blockSize);
    }
    if (sizeBytes <= 0 || sizeBytes % blockSize != 0) {
      throw new IllegalArgumentException(
          "size must be a positive multiple of the block size " + blockSize + ", not " + sizeBytes);
    }
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
    return sizeBytes / blockSize;
  }

  @Override
  public long sizeBytes() {
    return sizeBytes;
  }

  /** The sparse file holding the blocks (for diagnostics and tests). */
  public Path dataFile() {
    return dataFile;
  }

  @Override
  public void read(long offset, ByteBuffer dst) throws IOException {
    int length = dst.remaining();
    checkRange(offset, length);
    long stamp = readFence.stamp();
    if (stamp != AtomicReadFence.BUSY) {
      int start = dst.position();
      io.readFully(dst, offset);
      if (readFence.validate(stamp)) {
        return;
      }
      dst.position(start); // an atomic write ran meanwhile: read again, excluding it
    }
    rangeLock.lockShared(offset, length);
    try {
      io.readFully(dst, offset);
    } finally {
      rangeLock.unlockShared(offset, length);
    }
  }

  @Override
  public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
    int length = src.remaining();
    checkRange(offset, length);
    rangeLock.lockShared(offset, length);
    try {
      io.writeFully(src, offset);
    } finally {
      rangeLock.unlockShared(offset, length);
    }
    if (fua) {
      io.fdatasync();
      retireJournal();
    }
  }

  /**
   * Journal first, then in place, both under the exclusive range lock: overlapping atomic writes
   * reach the journal and the file in one order, and no plain write or compare-and-write
   * interleaves. Readers are kept out by the read fence.
   */
  @Override
  public void writeAtomic(long offset, ByteBuffer src, boolean fua) throws IOException {
    int length = src.remaining();
    if (length > MAX_ATOMIC_WRITE_BYTES) {
      throw new IllegalArgumentException(
          "atomic write of " + length + " bytes exceeds " + MAX_ATOMIC_WRITE_BYTES);
    }
    checkRange(offset, length);
    if (length == 0) {
      return;
    }
    rangeLock.lockExclusive(offset, length);
    try {
      journal.logThenApply(offset, src, () -> writeInPlace(offset, src));
    } finally {
      rangeLock.unlockExclusive(offset, length);
    }
    src.position(src.limit());
    if (fua) {
      io.fdatasync();
    }
  }

  /**
   * The in-place half of an atomic write. Once its record is durable the write must not stop
   * halfway because the command was aborted (readers would see a mix until the next replay), so an
   * interrupt is set aside and the idempotent positional write retried.
   */
  private void writeInPlace(long offset, ByteBuffer src) throws IOException {
    boolean interrupted = false;
    readFence.beginWrite();
    try {
      for (int attempt = 0; ; attempt++) {
        try {
          io.writeFully(src.duplicate(), offset);
          return;
        } catch (ClosedByInterruptException e) {
          interrupted = true;
          Thread.interrupted();
          if (attempt >= MAX_IN_PLACE_RETRIES) {
            throw e;
          }
        }
      }
    } finally {
      readFence.endWrite();
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * A write is now promised durable; an older journal record for its range must not be replayed
   * over it after a crash, so any records go (see {@link AtomicJournal}). Free when empty.
   */
  private void retireJournal() throws IOException {
    if (journal.hasRecords()) {
      journal.retire();
    }
  }

  @Override
  public void flush() throws IOException {
    // Retiring syncs the data itself; a plain fdatasync is needed only when nothing was retired.
    if (!journal.retire()) {
      io.fdatasync();
    }
  }

  /** The atomic-write journal (tests, diagnostics). */
  AtomicJournal journal() {
    return journal;
  }

  @Override
  public void unmap(long offset, long length) throws IOException {
    checkRange(offset, length);
    if (length == 0) {
      return;
    }
    rangeLock.lockShared(offset, length);
    try {
      deallocate(offset, length);
    } finally {
      rangeLock.unlockShared(offset, length);
    }
  }

  @Override
  public void writeZeroes(long offset, long length, boolean mayDeallocate) throws IOException {
    checkRange(offset, length);
    if (length == 0) {
      return;
    }
    rangeLock.lockShared(offset, length);
    try {
      if (mayDeallocate) {
        deallocate(offset, length);
      } else {
        zeroKeepingAllocation(offset, length);
      }
    } finally {
      rangeLock.unlockShared(offset, length);
    }
  }

  @Override
  public long compareAndWrite(long offset, ByteBuffer expected, ByteBuffer data, boolean fua)
      throws IOException {
    int length = expected.remaining();
    if (data.remaining() != length) {
      throw new IllegalArgumentException(
          "compare-and-write: expected has " + length + " bytes but data " + data.remaining());
    }
    checkRange(offset, length);
    long mismatch;
    rangeLock.lockExclusive(offset, length);
    try {
      ByteBuffer current = ByteBuffer.allocate(length);
      io.readFully(current, offset);
      current.flip();
      mismatch = current.mismatch(expected.duplicate());
      if (mismatch < 0) {
        io.writeFully(data.duplicate(), offset);
      }
    } finally {
      rangeLock.unlockExclusive(offset, length);
    }
    // Durability needs no exclusion: the data is in the page cache, fdatasync covers it.
    if (mismatch < 0 && fua) {
      io.fdatasync();
      retireJournal();
    }
    return mismatch;
  }

  @Override
  public Extent allocation(long offset, long maxLength) throws IOException {
    checkRange(offset, 0);
    if (maxLength <= 0 || offset == sizeBytes) {
      throw new OutOfRangeException(
          "allocation query at "
              + offset
              + " for "
              + maxLength
              + " bytes in a volume of "
              + sizeBytes);
    }
    long end = Math.min(sizeBytes, offset + roundUp(Math.min(maxLength, sizeBytes), blockSize));
    long dataAt = nativeFile.seek(offset, NativeFile.SEEK_DATA);
    if (dataAt < 0 || dataAt >= end) {
      return new Extent(offset, end - offset, false);
    }
    long holeFrom = roundDown(dataAt, blockSize);
    if (holeFrom > offset) {
      // The block holding the first data byte counts as allocated, so the hole stops before it.
      return new Extent(offset, holeFrom - offset, false);
    }
    long holeAt = nativeFile.seek(dataAt, NativeFile.SEEK_HOLE);
    long dataEnd = holeAt < 0 ? end : Math.min(end, roundUp(holeAt, blockSize));
    return new Extent(offset, dataEnd - offset, true);
  }

  @Override
  public int unmapGranularityBytes() {
    return UNMAP_GRANULARITY_BYTES;
  }

  /** Grows the file; the caller (the store) has validated the new size. */
  void grow(long newSizeBytes) throws IOException {
    checkGeometry(newSizeBytes, blockSize);
    if (newSizeBytes < sizeBytes) {
      throw new IllegalArgumentException("volumes only grow: " + newSizeBytes + " < " + sizeBytes);
    }
    nativeFile.ftruncate(newSizeBytes);
    sizeBytes = newSizeBytes;
  }

  /** Closes the files; later calls fail with {@link ClosedChannelException}. */
  void close() throws IOException {
    try {
      // A clean stop leaves nothing in the page cache only: callers that forget to flush (an
      // unreplicated volume with the write cache on) lose nothing to a later power cut.
      flush();
    } finally {
      closeFiles();
    }
  }

  private void closeFiles() throws IOException {
    try {
      io.close();
    } finally {
      try {
        nativeFile.close();
      } finally {
        journal.close();
      }
    }
  }

  /**
   * Punches the granule-aligned middle of the range and zero-writes the unaligned head and tail.
   * The end of the file counts as aligned: punching up to it frees the last partial granule.
   */
  private void deallocate(long offset, long length) throws IOException {
    long end = offset + length;
    long alignedStart = roundUp(offset, UNMAP_GRANULARITY_BYTES);
    long alignedEnd = end == sizeBytes ? end : roundDown(end, UNMAP_GRANULARITY_BYTES);
    if (alignedStart >= alignedEnd) {
      io.writeZeros(offset, length);
      return;
    }
    if (offset < alignedStart) {
      io.writeZeros(offset, alignedStart - offset);
    }
    punchOrZero(alignedStart, alignedEnd - alignedStart);
    if (alignedEnd < end) {
      io.writeZeros(alignedEnd, end - alignedEnd);
    }
  }

  private void punchOrZero(long offset, long length) throws IOException {
    if (punchSupported) {
      try {
        nativeFile.fallocate(
            NativeFile.FALLOC_FL_PUNCH_HOLE | NativeFile.FALLOC_FL_KEEP_SIZE, offset, length);
        return;
      } catch (NativeIoException e) {
        if (!e.unsupported()) {
          throw e;
        }
        punchSupported = false;
      }
    }
    io.writeZeros(offset, length);
  }

  /** Zeroes a range and leaves it allocated (a later write there cannot fail for space). */
  private void zeroKeepingAllocation(long offset, long length) throws IOException {
    if (zeroRangeSupported) {
      try {
        nativeFile.fallocate(
            NativeFile.FALLOC_FL_ZERO_RANGE | NativeFile.FALLOC_FL_KEEP_SIZE, offset, length);
        return;
      } catch (NativeIoException e) {
        if (!e.unsupported()) {
          throw e;
        }
        zeroRangeSupported = false;
      }
    }
    io.writeZeros(offset, length);
  }

  private void checkRange(long offset, long length) {
    long size = sizeBytes;
    if (offset < 0 || length < 0 || offset > size || length > size - offset) {
      throw new OutOfRangeException(
          "range [" + offset + ", +" + length + ") outside volume of " + size + " bytes");
    }
    if (offset % blockSize != 0 || length % blockSize != 0) {
      throw new OutOfRangeException(
          "range [" + offset + ", +" + length + ") not aligned to block size " + blockSize);
    }
  }

  private static long roundUp(long value, long unit) {
    return (value + unit - 1) / unit * unit;
  }

  private static long roundDown(long value, long unit) {
    return value / unit * unit;
  }

  @Override
  public String toString() {
    return "LocalVolume["
        + identity.name()
        + " "
        + identity.uuid()
        + ", "
        + blockCount()
        + "x"
        + blockSize
        + "]";
  }
}
