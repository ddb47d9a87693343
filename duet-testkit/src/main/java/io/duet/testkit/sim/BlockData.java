package io.duet.testkit.sim;

import java.nio.ByteBuffer;

/**
 * The content hosts write: every 512-byte sector of a block carries the write's unique value and
 * the block's index, so a read tells exactly which write it sees, and a torn or misplaced block is
 * recognized as a value nobody wrote. Value 0 is the initial all-zero block.
 */
final class BlockData {
  /** A block that matches no write: torn across writes, misplaced, or corrupt. */
  static final long GARBAGE = -1;

  private BlockData() {}

  static byte[] encode(long value, long firstBlock, int blocks) {
    ByteBuffer b = ByteBuffer.allocate(blocks * SimDisk.BLOCK);
    for (int i = 0; i < blocks; i++) {
      for (int s = 0; s < SimDisk.BLOCK / SimDisk.SECTOR; s++) {
        int at = i * SimDisk.BLOCK + s * SimDisk.SECTOR;
        b.putLong(at, value).putLong(at + 8, firstBlock + i).putLong(at + 16, ~value);
      }
    }
    return b.array();
  }

  /** The value block {@code index} (at {@code offset} in {@code data}) holds, or GARBAGE. */
  static long decode(byte[] data, int offset, long index) {
    ByteBuffer b = ByteBuffer.wrap(data);
    long value = b.getLong(offset);
    for (int s = 0; s < SimDisk.BLOCK / SimDisk.SECTOR; s++) {
      int at = offset + s * SimDisk.SECTOR;
      if (value == 0) {
        for (int i = 0; i < SimDisk.SECTOR; i++) {
          if (data[at + i] != 0) {
            return GARBAGE;
          }
        }
      } else if (b.getLong(at) != value
          || b.getLong(at + 8) != index
          || b.getLong(at + 16) != ~value) {
        return GARBAGE;
      }
    }
    return value;
  }
}
