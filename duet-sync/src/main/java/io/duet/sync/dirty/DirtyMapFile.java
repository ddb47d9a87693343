package io.duet.sync.dirty;

import io.duet.store.CorruptMetadataException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * The on-disk format of a {@link DirtyMap}, little-endian throughout.
 *
 * <p>Block 0 (4 KiB) holds two copies of the header, at offsets 0 and 512 so that each sits in its
 * own sector: magic, version, words per page, generation, region size, volume size, region count,
 * CRC32C. A resize writes the copy the current generation does not use, so a torn header write
 * leaves the other copy intact; open takes the valid copy with the highest generation.
 *
 * <p>Then one 4 KiB page per {@link #WORDS_PER_PAGE} bitmap words: the words, the page's own index
 * (catches a page written to the wrong place) and a CRC32C of both. A page is the unit of every
 * in-place update, so a torn write damages one page and its CRC says so.
 */
final class DirtyMapFile {
  static final int PAGE_BYTES = 4096;
  static final int HEADER_BLOCK_BYTES = 4096;
  static final int WORDS_PER_PAGE = (PAGE_BYTES - 8) / Long.BYTES; // 511
  static final long REGIONS_PER_PAGE = (long) WORDS_PER_PAGE * Long.SIZE;
  static final long MAGIC = 0x50414d5445554444L; // "DDUETMAP" read little-endian
  static final int VERSION = 1;

  /** 2^32 regions: 512 MiB of bitmap in memory, 256 TiB of volume at 64 KiB regions. */
  static final long MAX_REGION_COUNT = 1L << 32;

  private static final int SLOT_STRIDE = 512;
  private static final int SLOT_CRC_AT = 48;
  private static final int PAGE_INDEX_AT = WORDS_PER_PAGE * Long.BYTES;
  private static final int PAGE_CRC_AT = PAGE_INDEX_AT + Integer.BYTES;

  private DirtyMapFile() {}

  /** The geometry a header records. {@code generation} orders the two header copies. */
  record Header(long generation, long regionSizeBytes, long volumeSizeBytes, long regionCount) {
    static Header of(long generation, long regionSizeBytes, long volumeSizeBytes) {
      return new Header(
          generation,
          regionSizeBytes,
          volumeSizeBytes,
          Math.ceilDiv(volumeSizeBytes, regionSizeBytes));
    }

    int pageCount() {
      return pageCount(regionCount);
    }

    static int pageCount(long regionCount) {
      return Math.toIntExact(Math.ceilDiv(regionCount, REGIONS_PER_PAGE));
    }
  }

  static long pageOffset(int page) {
    return HEADER_BLOCK_BYTES + (long) page * PAGE_BYTES;
  }

  static ByteBuffer newPageBuffer() {
    return ByteBuffer.allocate(PAGE_BYTES).order(ByteOrder.LITTLE_ENDIAN);
  }

  /** Encodes one page of bitmap words; {@code words} holds exactly {@link #WORDS_PER_PAGE}. */
  static ByteBuffer encodePage(int page, long[] words) {
    ByteBuffer buf = newPageBuffer();
    for (long w : words) {
      buf.putLong(w);
    }
    buf.putInt(page);
    buf.putInt(crc(buf, 0, PAGE_CRC_AT));
    return buf.flip();
  }

  /**
   * Decodes one page read from disk into {@code words}; false when the page is torn, damaged or
   * belongs elsewhere (its content must not be trusted then).
   */
  static boolean decodePage(int page, ByteBuffer buf, long[] words) {
    if (buf.remaining() != PAGE_BYTES) {
      return false;
    }
    ByteBuffer b = buf.slice().order(ByteOrder.LITTLE_ENDIAN);
    if (b.getInt(PAGE_CRC_AT) != crc(b, 0, PAGE_CRC_AT) || b.getInt(PAGE_INDEX_AT) != page) {
      return false;
    }
    for (int i = 0; i < WORDS_PER_PAGE; i++) {
      words[i] = b.getLong(i * Long.BYTES);
    }
    return true;
  }

  /** Writes header copy {@code generation % 2}. The caller forces the channel. */
  static void writeHeader(FileChannel ch, Header h) throws IOException {
    ByteBuffer slot = encodeHeader(h);
    int at = (int) (h.generation() % 2) * SLOT_STRIDE;
    while (slot.hasRemaining()) {
      at += ch.write(slot, at);
    }
  }

  /** The full 4 KiB header block of a new file, with both copies holding {@code h}. */
  static ByteBuffer headerBlock(Header h) {
    ByteBuffer block = ByteBuffer.allocate(HEADER_BLOCK_BYTES);
    block.put(0, encodeHeader(h), 0, SLOT_CRC_AT + 4);
    block.put(SLOT_STRIDE, encodeHeader(h), 0, SLOT_CRC_AT + 4);
    return block;
  }

  private static ByteBuffer encodeHeader(Header h) {
    ByteBuffer b = ByteBuffer.allocate(SLOT_CRC_AT + 4).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(MAGIC).putInt(VERSION).putInt(WORDS_PER_PAGE).putLong(h.generation());
    b.putLong(h.regionSizeBytes()).putLong(h.volumeSizeBytes()).putLong(h.regionCount());
    b.putInt(crc(b, 0, SLOT_CRC_AT));
    return b.flip();
  }

  /**
   * Reads and checks the header block: the valid copy with the highest generation.
   *
   * @throws CorruptMetadataException neither copy is valid, or the geometry is inconsistent
   */
  static Header readHeader(Path file, FileChannel ch) throws IOException {
    long size = ch.size();
    if (size < HEADER_BLOCK_BYTES) {
      throw new CorruptMetadataException(
          file,
          "dirty map is "
              + size
              + " bytes, shorter than its "
              + HEADER_BLOCK_BYTES
              + "-byte header");
    }
    ByteBuffer block = ByteBuffer.allocate(HEADER_BLOCK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    while (block.hasRemaining()) {
      if (ch.read(block, block.position()) < 0) {
        throw new CorruptMetadataException(file, "dirty map header ends early");
      }
    }
    Header best = null;
    StringBuilder problems = new StringBuilder();
    for (int slot = 0; slot < 2; slot++) {
      ByteBuffer b =
          block.slice(slot * SLOT_STRIDE, SLOT_CRC_AT + 4).order(ByteOrder.LITTLE_ENDIAN);
      String problem = slotProblem(b);
      if (problem != null) {
        problems.append(problems.isEmpty() ? "" : "; ").append("header copy ").append(slot);
        problems.append(": ").append(problem);
        continue;
      }
      Header h = new Header(b.getLong(16), b.getLong(24), b.getLong(32), b.getLong(40));
      if (best == null || h.generation() > best.generation()) {
        best = h;
      }
    }
    if (best == null) {
      throw new CorruptMetadataException(file, problems.toString());
    }
    checkGeometry(file, best, size);
    return best;
  }

  private static String slotProblem(ByteBuffer b) {
    if (b.getLong(0) != MAGIC) {
      return String.format("bad magic 0x%016x (not a Duet dirty map)", b.getLong(0));
    }
    if (b.getInt(SLOT_CRC_AT) != crc(b, 0, SLOT_CRC_AT)) {
      return "checksum mismatch";
    }
    if (b.getInt(8) != VERSION) {
      return "unsupported version " + b.getInt(8) + " (this build reads " + VERSION + ")";
    }
    if (b.getInt(12) != WORDS_PER_PAGE) {
      return "unsupported page layout of " + b.getInt(12) + " words";
    }
    return null;
  }

  private static void checkGeometry(Path file, Header h, long fileSize)
      throws CorruptMetadataException {
    long region = h.regionSizeBytes();
    if (region <= 0 || Long.bitCount(region) != 1) {
      throw new CorruptMetadataException(file, "region size " + region + " is not a power of two");
    }
    if (h.volumeSizeBytes() <= 0 || h.regionCount() != Math.ceilDiv(h.volumeSizeBytes(), region)) {
      throw new CorruptMetadataException(
          file,
          "header records "
              + h.regionCount()
              + " regions for a volume of "
              + h.volumeSizeBytes()
              + " bytes in regions of "
              + region
              + " bytes");
    }
    if (h.regionCount() > MAX_REGION_COUNT) {
      throw new CorruptMetadataException(file, "region count " + h.regionCount() + " too large");
    }
    if (h.generation() < 0) {
      throw new CorruptMetadataException(file, "negative header generation " + h.generation());
    }
    // A file shorter than its pages is not rejected here: the missing pages read as damaged, and
    // a damaged page means "all its regions dirty" (the safe direction).
    assert fileSize >= HEADER_BLOCK_BYTES;
  }

  static int crc(ByteBuffer b, int from, int to) {
    CRC32C c = new CRC32C();
    c.update(b.slice(from, to - from));
    return (int) c.getValue();
  }
}
