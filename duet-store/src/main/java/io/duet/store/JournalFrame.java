package io.duet.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * One record of the atomic-write journal, and its codec. Layout, big-endian:
 *
 * <pre>
 *   0  magic     u32  "DAJ1"
 *   4  length    u32  data bytes (at most Volume.MAX_ATOMIC_WRITE_BYTES)
 *   8  sequence  u64  strictly increasing within one journal lifetime
 *  16  offset    u64  byte offset in the volume
 *  24  data      length bytes
 *  ..  crc32c    u32  over every byte before it
 * </pre>
 *
 * A frame is either whole (magic, sane length, CRC match) or absent: {@link #read} answers null for
 * anything else, so a record torn by a crash during its append reads as "no more records".
 *
 * @param sequence the record's sequence number
 * @param offset where its data goes in the volume
 * @param data the data, position 0, limit its length
 */
record JournalFrame(long sequence, long offset, ByteBuffer data) {
  static final int MAGIC = 0x44414a31; // "DAJ1"
  static final int HEADER_BYTES = 24;
  static final int TRAILER_BYTES = 4;

  /** Bytes a frame with {@code dataBytes} of data occupies in the journal. */
  static long frameBytes(int dataBytes) {
    return (long) HEADER_BYTES + dataBytes + TRAILER_BYTES;
  }

  /** The header of a frame; the caller writes header, data, then {@link #trailer}. */
  static ByteBuffer header(long sequence, long offset, int length) {
    return ByteBuffer.allocate(HEADER_BYTES)
        .order(ByteOrder.BIG_ENDIAN)
        .putInt(MAGIC)
        .putInt(length)
        .putLong(sequence)
        .putLong(offset)
        .flip();
  }

  /** The CRC32C trailer over {@code header} and {@code data} (their positions are not moved). */
  static ByteBuffer trailer(ByteBuffer header, ByteBuffer data) {
    CRC32C crc = new CRC32C();
    crc.update(header.duplicate());
    crc.update(data.duplicate());
    return ByteBuffer.allocate(TRAILER_BYTES).putInt((int) crc.getValue()).flip();
  }

  /** A whole frame in one buffer (tests and tools; the journal writes the parts in place). */
  static ByteBuffer encode(long sequence, long offset, ByteBuffer data) {
    ByteBuffer header = header(sequence, offset, data.remaining());
    ByteBuffer trailer = trailer(header, data);
    ByteBuffer frame = ByteBuffer.allocate((int) frameBytes(data.remaining()));
    frame.put(header).put(data.duplicate()).put(trailer);
    return frame.flip();
  }

  /**
   * Reads the frame at {@code position} of a journal holding {@code fileBytes} bytes.
   *
   * @return the frame, or null when no whole, valid frame starts there (end of the journal, a torn
   *     append, or damage)
   */
  static JournalFrame read(DataChannel log, long position, long fileBytes, int maxDataBytes)
      throws IOException {
    if (position < 0 || fileBytes - position < HEADER_BYTES + TRAILER_BYTES) {
      return null;
    }
    ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.BIG_ENDIAN);
    log.readFully(header, position);
    header.flip();
    if (header.getInt(0) != MAGIC) {
      return null;
    }
    int length = header.getInt(4);
    if (length < 0 || length > maxDataBytes || frameBytes(length) > fileBytes - position) {
      return null;
    }
    ByteBuffer data = ByteBuffer.allocate(length);
    log.readFully(data, position + HEADER_BYTES);
    data.flip();
    ByteBuffer stored = ByteBuffer.allocate(TRAILER_BYTES);
    log.readFully(stored, position + HEADER_BYTES + length);
    stored.flip();
    if (!stored.equals(trailer(header, data))) {
      return null;
    }
    return new JournalFrame(header.getLong(8), header.getLong(16), data);
  }

  /** Bytes this frame occupies in the journal. */
  long bytes() {
    return frameBytes(data.remaining());
  }
}
