package io.duet.store;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A block device of {@link #blockCount()} blocks of {@link #blockSize()} bytes: the contract every
 * front-end (SCSI, NBD) is written against. Offsets and lengths are in bytes and must be
 * block-aligned and inside the volume; implementations throw {@link OutOfRangeException} otherwise.
 * All methods are safe to call from many threads at once.
 *
 * <p>Durability: {@link #write} returns once the data is visible to every later read (page cache);
 * it is durable after {@link #flush()} returns, or at once when {@code fua} is set.
 *
 * <p>Buffers: {@link #read} and {@link #write} consume their buffer like a channel does (the
 * position advances to the limit); {@link #compareAndWrite} leaves its buffers' positions alone. A
 * length of zero is a valid no-op for read, write, unmap and writeZeroes.
 */
public interface Volume {

  /**
   * The longest {@link #writeAtomic} in bytes (1 MiB): large enough for database pages and
   * file-system log blocks, small enough that one atomic write's journal record stays cheap.
   */
  int MAX_ATOMIC_WRITE_BYTES = 1 << 20;

  /** The persistent identity (NAA, serial, UUID) that every path and site presents. */
  VolumeIdentity identity();

  /** Bytes per logical block: 512 or 4096, fixed for the volume's life. */
  int blockSize();

  /** Number of logical blocks; grows when the volume is resized, never shrinks. */
  long blockCount();

  default long sizeBytes() {
    return blockCount() * blockSize();
  }

  /** Reads {@code dst.remaining()} bytes at {@code offset}; unmapped regions read as zeros. */
  void read(long offset, ByteBuffer dst) throws IOException;

  /**
   * Writes {@code src.remaining()} bytes at {@code offset}; with {@code fua}, durable on return.
   */
  void write(long offset, ByteBuffer src, boolean fua) throws IOException;

  /**
   * Writes {@code src.remaining()} bytes (at most {@link #MAX_ATOMIC_WRITE_BYTES}) at {@code
   * offset} as one indivisible update: a read of the range — concurrent with the write, or after a
   * crash or power loss at any moment — returns either all old or all new data, never a mix.
   * Durability is as for {@link #write}: on return with {@code fua}, otherwise after the next
   * {@link #flush()}. Consumes {@code src} like {@link #write}.
   *
   * @throws IllegalArgumentException the length exceeds {@link #MAX_ATOMIC_WRITE_BYTES}
   */
  void writeAtomic(long offset, ByteBuffer src, boolean fua) throws IOException;

  /** Makes every write that returned before this call durable (fdatasync). */
  void flush() throws IOException;

  /**
   * Deallocates a range (punches a hole); it reads as zeros afterwards. A range the store cannot
   * deallocate (unaligned to the allocation granularity) is zeroed instead.
   */
  void unmap(long offset, long length) throws IOException;

  /**
   * Makes a range read as zeros. With {@code mayDeallocate} the store may punch a hole; without it
   * the blocks stay allocated (NBD's NO_HOLE, WRITE SAME without UNMAP).
   */
  void writeZeroes(long offset, long length, boolean mayDeallocate) throws IOException;

  /**
   * Atomically compares the range at {@code offset} with {@code expected} and, only if equal,
   * writes {@code data} (same length) there. No write to an overlapping range, through any path,
   * interleaves with the compare and the write.
   *
   * @return -1 when the data matched and was written, otherwise the byte offset (relative to {@code
   *     offset}) of the first byte that differed; nothing is written then
   */
  long compareAndWrite(long offset, ByteBuffer expected, ByteBuffer data, boolean fua)
      throws IOException;

  /**
   * Whether the block range starting at {@code offset} is allocated, and how far (in bytes) the
   * same status extends from {@code offset}, capped at {@code maxLength} rounded up to a whole
   * block and at the end of the volume. A block that is partly allocated counts as allocated.
   * {@code offset} must be a block boundary inside the volume and {@code maxLength} positive.
   * Unallocated blocks always read as zeros. Ranges zeroed by {@code writeZeroes(..., false)} keep
   * their space reserved but may be reported as unallocated (ext4/xfs unwritten extents).
   */
  Extent allocation(long offset, long maxLength) throws IOException;

  /** The granularity (bytes) at which {@link #unmap} really deallocates. */
  int unmapGranularityBytes();

  /** One run of blocks with the same allocation status. */
  record Extent(long offset, long length, boolean allocated) {}
}
