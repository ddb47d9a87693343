package io.duet.sync.link;

import java.nio.ByteBuffer;
import java.util.UUID;

/**
 * The first frames of a link connection: the dialer names itself and whom it expects, the acceptor
 * answers accept or reject (the tie-break between simultaneous dials). Certificates already proved
 * who is who; the UUIDs catch a miswired address (a proxy pointing at the wrong site).
 */
record LinkHello(UUID from, UUID to) {
  static final int MAGIC = 0x444c4e4b; // "DLNK"
  static final int VERSION = 1;
  static final int SIZE = 4 + 4 + 32;
  static final byte ACCEPT = 1;
  static final byte REJECT = 2;

  byte[] encode() {
    return ByteBuffer.allocate(SIZE)
        .putInt(MAGIC)
        .putInt(VERSION)
        .putLong(from.getMostSignificantBits())
        .putLong(from.getLeastSignificantBits())
        .putLong(to.getMostSignificantBits())
        .putLong(to.getLeastSignificantBits())
        .array();
  }

  static LinkHello decode(byte[] frame) throws LinkProtocolException {
    if (frame.length != SIZE) {
      throw new LinkProtocolException("link hello of " + frame.length + " bytes");
    }
    ByteBuffer b = ByteBuffer.wrap(frame);
    if (b.getInt() != MAGIC) {
      throw new LinkProtocolException("not a link hello");
    }
    int version = b.getInt();
    if (version != VERSION) {
      throw new LinkProtocolException("unsupported link version " + version);
    }
    return new LinkHello(new UUID(b.getLong(), b.getLong()), new UUID(b.getLong(), b.getLong()));
  }
}
