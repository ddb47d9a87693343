package io.duet.sync.digest;

import io.duet.store.OutOfRangeException;
import io.duet.store.Volume;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import net.openhft.hashing.LongHashFunction;

/**
 * XXH3-64 (seed 0) digests of volume regions, for verify and for initial sync from an existing
 * copy: two sites compare digests instead of data. A region's digest depends only on its bytes, so
 * an unallocated region (read as zeros) and a region of written zeros have the same digest; holes
 * are recognised through {@link Volume#allocation} and hashed without being read.
 *
 * <p>Each call reads through the caller's scratch buffer (at least one region long) and allocates
 * nothing per region, so a verify pass can run on one buffer per thread.
 */
public final class RegionDigests {
  private static final LongHashFunction XXH3 = LongHashFunction.xx3();

  // Region sizes are few (one per volume geometry plus a short tail region), so a small cache of
  // all-zero digests avoids hashing zeros again; beyond the bound we just compute.
  private static final int ZERO_CACHE_MAX_ENTRIES = 32;
  private static final ConcurrentHashMap<Integer, Long> ZERO_DIGESTS = new ConcurrentHashMap<>();

  private RegionDigests() {}

  /**
   * The digest of {@code length} bytes of {@code volume} at {@code offset}.
   *
   * @param offset and {@code length} follow the volume's block alignment rules
   * @param scratch a buffer of at least {@code length} bytes; its content and position are
   *     overwritten
   * @throws OutOfRangeException the range is outside the volume or not block-aligned
   * @throws IllegalArgumentException the scratch buffer is too small
   */
  public static long digest(Volume volume, long offset, int length, ByteBuffer scratch)
      throws IOException {
    Objects.requireNonNull(volume, "volume");
    checkScratch(scratch, length);
    if (length == 0) {
      return zeroDigest(0);
    }
    Volume.Extent extent = volume.allocation(offset, length);
    if (!extent.allocated() && extent.length() >= length) {
      return zeroDigest(length);
    }
    return readAndHash(volume, offset, length, scratch);
  }

  /**
   * The digests of {@code count} consecutive regions of {@code regionSizeBytes} starting at {@code
   * offset}; the last region is cut short at the end of the volume. One allocation query covers a
   * whole run of holes or of data.
   *
   * @throws OutOfRangeException a region starts at or beyond the end of the volume, or the range is
   *     not block-aligned
   */
  public static long[] digests(
      Volume volume, long offset, int regionSizeBytes, int count, ByteBuffer scratch)
      throws IOException {
    Objects.requireNonNull(volume, "volume");
    if (regionSizeBytes <= 0 || count < 0) {
      throw new IllegalArgumentException(
          "region size " + regionSizeBytes + " and count " + count + " must be positive");
    }
    checkScratch(scratch, regionSizeBytes);
    long size = volume.sizeBytes();
    long[] out = new long[count];
    long knownUntil = offset; // allocation status is known for [offset, knownUntil)
    boolean knownAllocated = false;
    for (int i = 0; i < count; i++) {
      long at = offset + (long) i * regionSizeBytes;
      if (at < 0 || at >= size) {
        throw new OutOfRangeException(
            "region " + i + " at " + at + " is outside the volume of " + size + " bytes");
      }
      int length = (int) Math.min(regionSizeBytes, size - at);
      if (at >= knownUntil) {
        long rest = Math.min(size - at, (long) (count - i) * regionSizeBytes);
        Volume.Extent e = volume.allocation(at, rest);
        knownUntil = at + e.length();
        knownAllocated = e.allocated();
      }
      boolean hole = !knownAllocated && at + length <= knownUntil;
      out[i] = hole ? zeroDigest(length) : readAndHash(volume, at, length, scratch);
      // A region that straddles a hole's end was read, and the next one asks again.
    }
    return out;
  }

  /** The digest of {@code length} zero bytes: what any unallocated region of that length has. */
  public static long zeroDigest(int length) {
    if (length < 0) {
      throw new IllegalArgumentException("negative length " + length);
    }
    Long cached = ZERO_DIGESTS.get(length);
    if (cached != null) {
      return cached;
    }
    long d = XXH3.hashBytes(new byte[length]);
    if (ZERO_DIGESTS.size() < ZERO_CACHE_MAX_ENTRIES) {
      ZERO_DIGESTS.putIfAbsent(length, d);
    }
    return d;
  }

  /**
   * The digest of the remaining bytes of {@code data} (for data already in memory); the buffer's
   * position is left alone.
   */
  public static long digest(ByteBuffer data) {
    int length = data.remaining();
    if (data.hasArray()) {
      return XXH3.hashBytes(data.array(), data.arrayOffset() + data.position(), length);
    }
    // The library's ByteBuffer path reaches into sun.nio.ch for direct buffers, which the module
    // system forbids without --add-exports; hashing the buffer's memory by address needs nothing.
    try {
      return XXH3.hashMemory(MemorySegment.ofBuffer(data).address(), length);
    } finally {
      Reference.reachabilityFence(data);
    }
  }

  private static long readAndHash(Volume volume, long offset, int length, ByteBuffer scratch)
      throws IOException {
    scratch.clear().limit(length);
    volume.read(offset, scratch);
    if (scratch.hasRemaining()) {
      throw new IOException(
          "short read of " + scratch.position() + " of " + length + " bytes at " + offset);
    }
    return digest(scratch.flip());
  }

  private static void checkScratch(ByteBuffer scratch, int length) {
    Objects.requireNonNull(scratch, "scratch");
    if (length < 0) {
      throw new IllegalArgumentException("negative length " + length);
    }
    if (scratch.capacity() < length) {
      throw new IllegalArgumentException(
          "scratch buffer of " + scratch.capacity() + " bytes is smaller than " + length);
    }
    if (scratch.isReadOnly()) {
      throw new IllegalArgumentException("scratch buffer is read-only");
    }
  }
}
