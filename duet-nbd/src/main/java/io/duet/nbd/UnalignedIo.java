package io.duet.nbd;

import io.duet.store.Volume;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Byte-granular access over a {@link Volume}, which only takes whole blocks. NBD clients that
 * negotiated no block size (NBD_OPT_EXPORT_NAME) may send any offset and length, so partial blocks
 * are read whole and written by read-modify-write through {@link Volume#compareAndWrite}: the write
 * lands only if the block did not change since it was read, so a concurrent write to the other
 * bytes of the same block, through NBD or iSCSI, is never lost.
 */
final class UnalignedIo {
  /** A block under constant concurrent rewriting could starve a read-modify-write forever. */
  static final int RMW_ATTEMPTS_MAX = 1000;

  private UnalignedIo() {}

  static void read(Volume v, long offset, ByteBuffer dst) throws IOException {
    int bs = v.blockSize();
    int length = dst.remaining();
    if (offset % bs == 0 && length % bs == 0) {
      v.read(offset, dst);
      return;
    }
    long start = floor(offset, bs);
    long end = ceil(offset + length, bs);
    // Bounded: length <= 32 MiB plus at most two blocks.
    ByteBuffer whole = ByteBuffer.allocate((int) (end - start));
    v.read(start, whole);
    dst.put(whole.flip().position((int) (offset - start)).limit((int) (offset - start) + length));
  }

  static void write(Volume v, long offset, ByteBuffer src, boolean fua) throws IOException {
    int bs = v.blockSize();
    int length = src.remaining();
    long end = offset + length;
    long innerStart = ceil(offset, bs);
    long innerEnd = floor(end, bs);
    if (innerStart >= innerEnd) {
      // Inside one block, or straddling one boundary without a whole block.
      patch(v, offset, src, fua);
      return;
    }
    int base = src.position(); // slice(index, length) takes absolute indexes
    if (offset < innerStart) {
      patch(v, offset, src.slice(base, (int) (innerStart - offset)), fua);
    }
    v.write(
        innerStart,
        src.slice(base + (int) (innerStart - offset), (int) (innerEnd - innerStart)),
        fua);
    if (innerEnd < end) {
      patch(v, innerEnd, src.slice(base + (int) (innerEnd - offset), (int) (end - innerEnd)), fua);
    }
    src.position(src.limit());
  }

  static void writeZeroes(Volume v, long offset, long length, boolean mayDeallocate, boolean fua)
      throws IOException {
    int bs = v.blockSize();
    long end = offset + length;
    long innerStart = ceil(offset, bs);
    long innerEnd = floor(end, bs);
    if (innerStart >= innerEnd) {
      patch(v, offset, ByteBuffer.allocate((int) length), fua);
      return;
    }
    if (offset < innerStart) {
      patch(v, offset, ByteBuffer.allocate((int) (innerStart - offset)), fua);
    }
    v.writeZeroes(innerStart, innerEnd - innerStart, mayDeallocate);
    if (innerEnd < end) {
      patch(v, innerEnd, ByteBuffer.allocate((int) (end - innerEnd)), fua);
    }
    if (fua) {
      v.flush();
    }
  }

  /** TRIM is advisory: only the whole blocks inside the range are deallocated. */
  static void trim(Volume v, long offset, long length, boolean fua) throws IOException {
    int bs = v.blockSize();
    long innerStart = ceil(offset, bs);
    long innerEnd = floor(offset + length, bs);
    if (innerStart < innerEnd) {
      v.unmap(innerStart, innerEnd - innerStart);
      if (fua) {
        v.flush();
      }
    }
  }

  /** Writes {@code bytes} (spanning at most two blocks, maybe partially) by read-modify-write. */
  private static void patch(Volume v, long offset, ByteBuffer bytes, boolean fua)
      throws IOException {
    int bs = v.blockSize();
    long start = floor(offset, bs);
    int span = (int) (ceil(offset + bytes.remaining(), bs) - start);
    ByteBuffer current = ByteBuffer.allocate(span);
    ByteBuffer updated = ByteBuffer.allocate(span);
    for (int attempt = 0; attempt < RMW_ATTEMPTS_MAX; attempt++) {
      current.clear();
      v.read(start, current);
      current.flip();
      updated.clear();
      updated.put(current.duplicate()).flip();
      updated.put((int) (offset - start), bytes, bytes.position(), bytes.remaining());
      if (v.compareAndWrite(start, current, updated, fua) < 0) {
        bytes.position(bytes.limit());
        return;
      }
    }
    throw new IOException(
        "read-modify-write at " + offset + " lost " + RMW_ATTEMPTS_MAX + " races in a row");
  }

  static long floor(long x, int bs) {
    return x - Math.floorMod(x, bs);
  }

  static long ceil(long x, int bs) {
    long f = floor(x, bs);
    return f == x ? x : f + bs;
  }
}
