package io.duet.sync.link;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.zip.CRC32C;

/**
 * Link framing: {@code u32 length, u32 CRC32C(payload), payload}. A zero-length frame is a
 * keepalive and never reaches the receiver. The length is checked against the limit before any
 * allocation, so a hostile length cannot exhaust memory. The CRC is end-to-end over TLS: it catches
 * our own bugs (a frame torn by a buffer mix-up), not the network's.
 */
final class FrameIo {
  static final byte[] KEEPALIVE = new byte[0];

  private FrameIo() {}

  static void write(DataOutputStream out, byte[] payload) throws IOException {
    CRC32C crc = new CRC32C();
    crc.update(payload);
    out.writeInt(payload.length);
    out.writeInt((int) crc.getValue());
    out.write(payload);
  }

  /** Reads one frame; EOFException at a clean end, LinkProtocolException for a bad one. */
  static byte[] read(DataInputStream in, int maxFrameBytes) throws IOException {
    int length = in.readInt();
    int expected = in.readInt();
    if (length < 0 || length > maxFrameBytes) {
      throw new LinkProtocolException(
          "frame length " + Integer.toUnsignedString(length) + " exceeds " + maxFrameBytes);
    }
    byte[] payload = new byte[length];
    in.readFully(payload);
    CRC32C crc = new CRC32C();
    crc.update(payload);
    if ((int) crc.getValue() != expected) {
      throw new LinkProtocolException("frame CRC32C mismatch (" + length + " bytes)");
    }
    return payload;
  }
}
