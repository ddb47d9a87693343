package io.duet.nbd;

import java.nio.ByteBuffer;

/**
 * One transmission-phase request header. {@code offset} is unsigned on the wire and kept raw here
 * (a negative value means an offset beyond 2^63, out of range for any volume); {@code length} is
 * the unsigned 32-bit length widened to a long.
 */
record Request(int flags, int type, long cookie, long offset, long length) {

  /** Decodes the 28-byte header in {@code header} (position to limit). */
  static Request decode(ByteBuffer header) throws MalformedException {
    if (header.remaining() != Nbd.REQUEST_HEADER_BYTES) {
      throw new MalformedException("request header of " + header.remaining() + " bytes");
    }
    int magic = header.getInt();
    if (magic != Nbd.REQUEST_MAGIC) {
      throw new MalformedException(String.format("bad request magic 0x%08x", magic));
    }
    int flags = Short.toUnsignedInt(header.getShort());
    int type = Short.toUnsignedInt(header.getShort());
    long cookie = header.getLong();
    long offset = header.getLong();
    long length = Integer.toUnsignedLong(header.getInt());
    return new Request(flags, type, cookie, offset, length);
  }

  /** Whether {@code [offset, offset + length)} lies inside a device of {@code sizeBytes}. */
  boolean within(long sizeBytes) {
    return offset >= 0 && offset <= sizeBytes && length <= sizeBytes - offset;
  }

  boolean has(int flag) {
    return (flags & flag) != 0;
  }

  static String typeName(int type) {
    return switch (type) {
      case Nbd.CMD_READ -> "READ";
      case Nbd.CMD_WRITE -> "WRITE";
      case Nbd.CMD_DISC -> "DISC";
      case Nbd.CMD_FLUSH -> "FLUSH";
      case Nbd.CMD_TRIM -> "TRIM";
      case Nbd.CMD_CACHE -> "CACHE";
      case Nbd.CMD_WRITE_ZEROES -> "WRITE_ZEROES";
      case Nbd.CMD_BLOCK_STATUS -> "BLOCK_STATUS";
      default -> "command " + type;
    };
  }
}
