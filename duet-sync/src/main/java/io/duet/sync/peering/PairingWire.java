package io.duet.sync.peering;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Messages of the pairing handshake, each {@code u16 length, u8 type, body}. TLS already protects
 * integrity, so there is no checksum; lengths are bounded so a hostile peer cannot make us
 * allocate.
 */
final class PairingWire {
  static final int HELLO = 1;
  static final int CHALLENGE = 2;
  static final int PROOF = 3;
  static final int ACCEPTED = 4;
  static final int REFUSED = 5;
  static final int MAX_BODY = 2048;
  static final int SALT_BYTES = 16;

  private PairingWire() {}

  /** A received message; {@code body} is positioned at its start. */
  record Message(int type, ByteBuffer body) {}

  static void write(DataOutputStream out, int type, byte[] body) throws IOException {
    if (body.length > MAX_BODY) {
      throw new IllegalArgumentException("pairing message too large");
    }
    out.writeShort(body.length + 1);
    out.writeByte(type);
    out.write(body);
    out.flush();
  }

  static Message read(DataInputStream in) throws IOException, PairingException {
    int len;
    try {
      len = in.readUnsignedShort();
    } catch (EOFException e) {
      throw new PairingException(
          PairingException.Reason.UNREACHABLE, "the other site closed the connection", e);
    }
    if (len < 1 || len > MAX_BODY + 1) {
      throw protocol("bad message length " + len);
    }
    byte[] b = new byte[len];
    in.readFully(b);
    return new Message(b[0] & 0xff, ByteBuffer.wrap(b, 1, len - 1).slice());
  }

  static byte[] hello(byte[] nonce, String address) {
    byte[] addr = address.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(nonce.length + 2 + addr.length)
        .put(nonce)
        .putShort((short) addr.length)
        .put(addr)
        .array();
  }

  static byte[] challenge(byte[] salt, int iterations, byte[] nonce) {
    return ByteBuffer.allocate(salt.length + 4 + nonce.length)
        .put(salt)
        .putInt(iterations)
        .put(nonce)
        .array();
  }

  static byte[] refused(PairingException.Reason reason, String message) {
    byte[] m = message.getBytes(StandardCharsets.UTF_8);
    int n = Math.min(m.length, MAX_BODY - 3);
    return ByteBuffer.allocate(3 + n)
        .put((byte) reason.code)
        .putShort((short) n)
        .put(m, 0, n)
        .array();
  }

  /** Reads fixed-size bytes from a body, or throws a protocol error. */
  static byte[] bytes(ByteBuffer body, int n, String what) throws PairingException {
    try {
      byte[] b = new byte[n];
      body.get(b);
      return b;
    } catch (BufferUnderflowException e) {
      throw protocol("short " + what);
    }
  }

  static int int32(ByteBuffer body, String what) throws PairingException {
    if (body.remaining() < 4) {
      throw protocol("short " + what);
    }
    return body.getInt();
  }

  static String string(ByteBuffer body, String what) throws PairingException {
    if (body.remaining() < 2) {
      throw protocol("short " + what);
    }
    int n = Short.toUnsignedInt(body.getShort());
    byte[] b = bytes(body, n, what);
    String s = new String(b, StandardCharsets.UTF_8);
    if (!java.util.Arrays.equals(s.getBytes(StandardCharsets.UTF_8), b)) {
      throw protocol(what + " is not UTF-8");
    }
    return s;
  }

  static void end(ByteBuffer body, String what) throws PairingException {
    if (body.hasRemaining()) {
      throw protocol(body.remaining() + " stray bytes after " + what);
    }
  }

  /** Throws the refusal a REFUSED message carries. */
  static PairingException refusal(ByteBuffer body) {
    try {
      if (!body.hasRemaining()) {
        return protocol("empty refusal");
      }
      PairingException.Reason reason = PairingException.Reason.ofCode(body.get() & 0xff);
      return new PairingException(reason, "the other site refused: " + string(body, "refusal"));
    } catch (PairingException e) {
      return e;
    }
  }

  static PairingException protocol(String message) {
    return new PairingException(
        PairingException.Reason.PROTOCOL, "pairing protocol error: " + message);
  }
}
