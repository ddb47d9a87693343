package io.duet.store;

import java.io.IOException;
import java.nio.ByteBuffer;
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
 * zeroing, unmap and compare-and-write made through this object.
 */
public final class LocalVolume implements Volume {
  /** Hole granularity: ext4/xfs deallocate whole 4 KiB file-system blocks. */
  static final int UNMAP_GRANULARITY_BYTES = 4096;

  private final VolumeIdentity identity;
  private final int blockSize;
  private final Path dataFile;
  private final DataChannel io;
  private final NativeFile nativeFile;
  private final RangeLock rangeLock = new RangeLock();
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
      NativeFile nativeFile) {
    this.identity = identity;
    this.blockSize = blockSize;
    this.sizeBytes = sizeBytes;
    this.dataFile = dataFile;
    this.io = io;
    this.nativeFile = nativeFile;
  }

  /** Creates the data file (which must not exist) sized {@code sizeBytes}, all unallocated. */
  static LocalVolume create(Path dataFile, VolumeIdentity identity, long sizeBytes, int blockSize)
      throws IOException {
    Files.createFile(dataFile);
    return open(dataFile, identity, sizeBytes, blockSize);
  }

  /** Opens an existing data file; extends it to {@code sizeBytes} if a resize was interrupted. */
  static LocalVolume open(Path dataFile, VolumeIdentity identity, long sizeBytes, int blockSize)
      throws IOException {
    Objects.requireNonNull(identity, "identity");
    checkGeometry(sizeBytes, blockSize);
    NativeFile nativeFile = NativeFile.open(dataFile);
    DataChannel io = null;
    try {
      io = new DataChannel(dataFile);
      if (io.size() < sizeBytes) {
        nativeFile.ftruncate(sizeBytes);
      }
    } catch (IOException | RuntimeException e) {
      if (io != null) {
        io.close();
      }
      nativeFile.close();
      throw e;
    }
    return new LocalVolume(identity, blockSize, sizeBytes, dataFile, io, nativeFile);
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
    checkRange(offset, dst.remaining());
    io.readFully(dst, offset);
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
    }
  }

  @Override
  public void flush() throws IOException {
    io.fdatasync();
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
      io.close();
    } finally {
      nativeFile.close();
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
