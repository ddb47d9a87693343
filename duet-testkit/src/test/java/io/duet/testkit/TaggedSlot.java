package io.duet.testkit;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The contents of one 4 KiB slot that a {@link LoadWriter} writes: every 512-byte block names its
 * writer, the write's sequence number and its place, and the rest of the block is derived from
 * those, so a read tells exactly which write it returned, and a torn or misplaced block is caught.
 */
final class TaggedSlot {
  static final int BLOCK_BYTES = 512;
  static final int BLOCKS = 8;
  static final int BYTES = BLOCK_BYTES * BLOCKS;
  private static final byte[] MAGIC = "DUETSLOT".getBytes(StandardCharsets.US_ASCII);
  private static final int HEADER_BYTES = 32;

  /** What a read of a slot found. */
  record Found(boolean zero, int writer, long seq) {
    static final Found ZERO = new Found(true, -1, -1);

    @Override
    public String toString() {
      return zero ? "zeros" : "writer " + writer + " seq " + seq;
    }
  }

  private TaggedSlot() {}

  static byte[] encode(int writer, long seq, long slot) {
    ByteBuffer b = ByteBuffer.allocate(BYTES);
    for (int i = 0; i < BLOCKS; i++) {
      b.position(i * BLOCK_BYTES);
      b.put(MAGIC).putInt(writer).putLong(seq).putLong(slot).putInt(i);
      long x = mix(writer, seq, slot, i);
      for (int off = HEADER_BYTES; off < BLOCK_BYTES; off += 8) {
        x = x * 6364136223846793005L + 1442695040888963407L;
        b.putLong(x);
      }
    }
    return b.array();
  }

  /**
   * Decodes a slot read from {@code slot}; throws with a description when the bytes are neither all
   * zero nor exactly one write's contents.
   */
  static Found decode(byte[] bytes, int offset, long slot) {
    byte[] s = Arrays.copyOfRange(bytes, offset, offset + BYTES);
    if (Arrays.equals(s, new byte[BYTES])) {
      return Found.ZERO;
    }
    ByteBuffer b = ByteBuffer.wrap(s);
    byte[] magic = new byte[MAGIC.length];
    b.get(magic);
    if (!Arrays.equals(magic, MAGIC)) {
      throw new AssertionError("slot " + slot + " holds foreign bytes: " + hex(s));
    }
    int writer = b.getInt();
    long seq = b.getLong();
    if (!Arrays.equals(s, encode(writer, seq, slot))) {
      throw new AssertionError(
          "slot "
              + slot
              + " is torn or misplaced (first block says writer "
              + writer
              + " seq "
              + seq
              + "): "
              + hex(s));
    }
    return new Found(false, writer, seq);
  }

  private static long mix(int writer, long seq, long slot, int block) {
    long z = (writer * 0x9E3779B97F4A7C15L) ^ (seq * 0xBF58476D1CE4E5B9L) ^ (slot << 3 | block);
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    return z ^ (z >>> 31);
  }

  private static String hex(byte[] s) {
    StringBuilder h = new StringBuilder();
    for (int i = 0; i < 48; i++) {
      h.append(String.format("%02x", s[i]));
    }
    return h + "...";
  }
}
