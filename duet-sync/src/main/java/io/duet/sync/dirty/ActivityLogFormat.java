package io.duet.sync.dirty;

import io.duet.store.CorruptMetadataException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The on-disk format of an {@link ActivityLogFile}, little-endian throughout.
 *
 * <p>A 4 KiB header block (magic, version, slot size, slot count, extents per record, extent size,
 * CRC32C) written once when the file is created, then a ring of fixed-size slots. Each slot holds
 * one transaction: the complete set of active extents at that moment, with a sequence number and a
 * CRC32C. Transaction {@code n} always goes to slot {@code n % slotCount}, so a torn write damages
 * only the newest transaction and the one before it, in another slot, still stands; that older set
 * is a safe answer because the torn one was never acknowledged to a writer.
 */
final class ActivityLogFormat {
  static final long MAGIC = 0x474f4c4154455544L; // "DUETALOG" read little-endian
  static final int VERSION = 1;
  static final int HEADER_BLOCK_BYTES = 4096;
  static final int SLOT_COUNT_DEFAULT = 32;
  static final int MAX_CAPACITY = 1 << 16;
  static final int FLAG_WHOLE_VOLUME = 1;

  private static final int HEADER_CRC_AT = 32;
  private static final int RECORD_FIXED_BYTES = 16;
  private static final int MAX_SLOT_COUNT = 1024;

  private ActivityLogFormat() {}

  /** The geometry a header records: extents per record is {@code capacity}. */
  record Geometry(int slotBytes, int slotCount, int capacity, long extentSizeBytes) {
    static Geometry of(int capacity, long extentSizeBytes) {
      int needed = RECORD_FIXED_BYTES + Long.BYTES * capacity + Integer.BYTES;
      int slotBytes = Math.ceilDiv(needed, 4096) * 4096;
      return new Geometry(slotBytes, SLOT_COUNT_DEFAULT, capacity, extentSizeBytes);
    }

    long slotOffset(long seq) {
      return HEADER_BLOCK_BYTES + (seq % slotCount) * (long) slotBytes;
    }

    long fileBytes() {
      return HEADER_BLOCK_BYTES + (long) slotCount * slotBytes;
    }
  }

  /** One transaction: the extents active after it, or the whole volume. */
  record Txn(long seq, boolean wholeVolume, long[] extents) {}

  /** What a file holds, as far as it can be trusted. */
  sealed interface Content {}

  /** A header that parses, and the newest valid transaction (null when there is none). */
  record Readable(Geometry geometry, Txn latest) implements Content {}

  /** Nothing in the file can be trusted; {@code problem} says why. */
  record Garbage(String problem) implements Content {}

  static ByteBuffer headerBlock(Geometry g) {
    ByteBuffer b = ByteBuffer.allocate(HEADER_BLOCK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(MAGIC).putInt(VERSION).putInt(g.slotBytes()).putInt(g.slotCount());
    b.putInt(g.capacity()).putLong(g.extentSizeBytes());
    b.putInt(HEADER_CRC_AT, DirtyMapFile.crc(b, 0, HEADER_CRC_AT));
    return b.clear();
  }

  static ByteBuffer encode(Txn t) {
    int len = RECORD_FIXED_BYTES + Long.BYTES * t.extents().length;
    ByteBuffer b = ByteBuffer.allocate(len + Integer.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(t.seq()).putInt(t.wholeVolume() ? FLAG_WHOLE_VOLUME : 0).putInt(t.extents().length);
    for (long e : t.extents()) {
      b.putLong(e);
    }
    b.putInt(DirtyMapFile.crc(b, 0, len));
    return b.flip();
  }

  /**
   * Reads the header and every slot.
   *
   * @throws CorruptMetadataException only for a file written by a newer format version, which this
   *     build must neither trust nor overwrite; other damage is reported as {@link Garbage}
   */
  static Content read(Path file, FileChannel ch) throws IOException {
    ByteBuffer h = ByteBuffer.allocate(HEADER_BLOCK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    if (FreshFile.readFully(ch, h, 0) < HEADER_CRC_AT + 4) {
      return new Garbage("file of " + ch.size() + " bytes is shorter than its header");
    }
    if (h.getLong(0) != MAGIC) {
      return new Garbage(String.format("bad magic 0x%016x", h.getLong(0)));
    }
    if (h.getInt(HEADER_CRC_AT) != DirtyMapFile.crc(h, 0, HEADER_CRC_AT)) {
      return new Garbage("header checksum mismatch");
    }
    if (h.getInt(8) != VERSION) {
      throw new CorruptMetadataException(
          file,
          "activity log format version " + h.getInt(8) + " is not " + VERSION + " (newer build?)");
    }
    Geometry g = new Geometry(h.getInt(12), h.getInt(16), h.getInt(20), h.getLong(24));
    String problem = geometryProblem(g);
    if (problem != null) {
      return new Garbage(problem);
    }
    return new Readable(g, latest(ch, g));
  }

  private static String geometryProblem(Geometry g) {
    if (g.capacity() < 1 || g.capacity() > MAX_CAPACITY) {
      return "capacity " + g.capacity() + " out of range";
    }
    if (g.slotCount() < 2 || g.slotCount() > MAX_SLOT_COUNT) {
      return "slot count " + g.slotCount() + " out of range";
    }
    if (g.slotBytes() != Geometry.of(g.capacity(), g.extentSizeBytes()).slotBytes()) {
      return "slot size " + g.slotBytes() + " does not fit capacity " + g.capacity();
    }
    if (g.extentSizeBytes() <= 0 || Long.bitCount(g.extentSizeBytes()) != 1) {
      return "extent size " + g.extentSizeBytes() + " is not a power of two";
    }
    return null;
  }

  private static Txn latest(FileChannel ch, Geometry g) throws IOException {
    Txn best = null;
    ByteBuffer slot = ByteBuffer.allocate(g.slotBytes()).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < g.slotCount(); i++) {
      slot.clear();
      int n = FreshFile.readFully(ch, slot, HEADER_BLOCK_BYTES + (long) i * g.slotBytes());
      Txn t = decode(slot.flip().limit(n), i, g);
      if (t != null && (best == null || t.seq() > best.seq())) {
        best = t;
      }
    }
    return best;
  }

  /** Decodes slot {@code index}; null when it is empty, torn, damaged or misplaced. */
  static Txn decode(ByteBuffer b, int index, Geometry g) {
    if (b.remaining() < RECORD_FIXED_BYTES + Integer.BYTES) {
      return null;
    }
    long seq = b.getLong(0);
    int flags = b.getInt(8);
    int count = b.getInt(12);
    if (seq < 1 || seq % g.slotCount() != index || count < 0 || count > g.capacity()) {
      return null;
    }
    int len = RECORD_FIXED_BYTES + Long.BYTES * count;
    if (b.remaining() < len + Integer.BYTES || b.getInt(len) != DirtyMapFile.crc(b, 0, len)) {
      return null;
    }
    if ((flags & ~FLAG_WHOLE_VOLUME) != 0) {
      return null;
    }
    long[] extents = new long[count];
    for (int i = 0; i < count; i++) {
      extents[i] = b.getLong(RECORD_FIXED_BYTES + i * Long.BYTES);
      if (extents[i] < 0) {
        return null;
      }
    }
    Arrays.sort(extents);
    return new Txn(seq, (flags & FLAG_WHOLE_VOLUME) != 0, extents);
  }
}
