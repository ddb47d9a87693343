package io.duet.nbd;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A deliberately minimal NBD client for tests that need to send exactly the bytes they choose:
 * malformed handshakes, odd options, hostile requests. Written from proto.md, sharing no code with
 * the server beyond its constants.
 */
final class RawClient implements AutoCloseable {
  /** One option reply. */
  record OptionReply(int option, int type, byte[] data) {
    String text() {
      return new String(data, StandardCharsets.UTF_8);
    }
  }

  /** One reply chunk (simple replies have type -1 and flags DONE). */
  record Reply(int error, long cookie, int flags, int type, byte[] payload) {}

  final Socket socket;
  final DataInputStream in;
  final DataOutputStream out;

  RawClient(int port) throws IOException {
    socket = new Socket();
    socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
    socket.setSoTimeout(10_000);
    in = new DataInputStream(socket.getInputStream());
    // Buffered, so a hostile message leaves in one write: the server may close as soon as it has
    // seen enough, and a second write would then fail with a broken pipe.
    out = new DataOutputStream(new java.io.BufferedOutputStream(socket.getOutputStream()));
  }

  /** Reads the server greeting; returns the handshake flags. */
  int greeting() throws IOException {
    if (in.readLong() != Nbd.NBDMAGIC || in.readLong() != Nbd.IHAVEOPT) {
      throw new IOException("bad greeting");
    }
    return in.readUnsignedShort();
  }

  /** Greeting plus client flags FIXED_NEWSTYLE | NO_ZEROES. */
  RawClient handshake() throws IOException {
    greeting();
    out.writeInt(Nbd.CLIENT_FIXED_NEWSTYLE | Nbd.CLIENT_NO_ZEROES);
    return this;
  }

  void sendOption(int option, byte[] data) throws IOException {
    out.writeLong(Nbd.IHAVEOPT);
    out.writeInt(option);
    out.writeInt(data.length);
    out.write(data);
    out.flush();
  }

  OptionReply readOptionReply() throws IOException {
    long magic = in.readLong();
    if (magic != Nbd.OPTION_REPLY_MAGIC) {
      throw new IOException("bad option reply magic " + Long.toHexString(magic));
    }
    int option = in.readInt();
    int type = in.readInt();
    int length = in.readInt();
    if (length < 0 || length > 1 << 20) {
      throw new IOException("absurd option reply length " + length);
    }
    return new OptionReply(option, type, in.readNBytes(length));
  }

  OptionReply option(int option, byte[] data) throws IOException {
    sendOption(option, data);
    return readOptionReply();
  }

  static byte[] goData(String name) {
    byte[] n = name.getBytes(StandardCharsets.UTF_8);
    return java.nio.ByteBuffer.allocate(6 + n.length)
        .putInt(n.length)
        .put(n)
        .putShort((short) 0)
        .array();
  }

  static byte[] metaData(String name, String... queries) {
    byte[] n = name.getBytes(StandardCharsets.UTF_8);
    int size = 8 + n.length;
    for (String q : queries) {
      size += 4 + q.getBytes(StandardCharsets.UTF_8).length;
    }
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(size).putInt(n.length).put(n);
    b.putInt(queries.length);
    for (String q : queries) {
      byte[] qb = q.getBytes(StandardCharsets.UTF_8);
      b.putInt(qb.length).put(qb);
    }
    return b.array();
  }

  /** Negotiates (optionally structured replies and base:allocation) and enters transmission. */
  RawClient attach(String export, boolean structured) throws IOException {
    handshake();
    if (structured) {
      expect(option(Nbd.OPT_STRUCTURED_REPLY, new byte[0]), Nbd.REP_ACK);
      OptionReply r = option(Nbd.OPT_SET_META_CONTEXT, metaData(export, Nbd.BASE_ALLOCATION));
      expect(r, Nbd.REP_META_CONTEXT);
      expect(readOptionReply(), Nbd.REP_ACK);
    }
    sendOption(Nbd.OPT_GO, goData(export));
    while (true) {
      OptionReply r = readOptionReply();
      if (r.type() == Nbd.REP_ACK) {
        return this;
      }
      if (r.type() != Nbd.REP_INFO) {
        throw new IOException("GO failed: type " + Integer.toHexString(r.type()) + " " + r.text());
      }
    }
  }

  private static void expect(OptionReply r, int type) throws IOException {
    if (r.type() != type) {
      throw new IOException("expected reply " + type + ", got " + Integer.toHexString(r.type()));
    }
  }

  void request(int flags, int type, long cookie, long offset, long length, byte[] data)
      throws IOException {
    out.writeInt(Nbd.REQUEST_MAGIC);
    out.writeShort(flags);
    out.writeShort(type);
    out.writeLong(cookie);
    out.writeLong(offset);
    out.writeInt((int) length);
    if (data != null) {
      out.write(data);
    }
    out.flush();
  }

  /** Reads one reply; {@code readLength} is the data length of a simple READ reply (else 0). */
  Reply reply(int readLength) throws IOException {
    int magic = in.readInt();
    if (magic == Nbd.SIMPLE_REPLY_MAGIC) {
      int error = in.readInt();
      long cookie = in.readLong();
      byte[] data = error == 0 ? in.readNBytes(readLength) : new byte[0];
      return new Reply(error, cookie, Nbd.REPLY_FLAG_DONE, -1, data);
    }
    if (magic != Nbd.STRUCTURED_REPLY_MAGIC) {
      throw new IOException("bad reply magic " + Integer.toHexString(magic));
    }
    int flags = in.readUnsignedShort();
    int type = in.readUnsignedShort();
    long cookie = in.readLong();
    int length = in.readInt();
    byte[] payload = in.readNBytes(length);
    int error = 0;
    if ((type & 0x8000) != 0) {
      error = java.nio.ByteBuffer.wrap(payload).getInt();
    }
    return new Reply(error, cookie, flags, type, payload);
  }

  /** Whether the server closed the connection (reads EOF within the socket timeout). */
  boolean closedByServer() throws IOException {
    try {
      while (true) {
        if (in.read() < 0) {
          return true;
        }
      }
    } catch (EOFException | java.net.SocketException e) {
      return true;
    } catch (java.net.SocketTimeoutException e) {
      return false;
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
