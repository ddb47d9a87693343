package io.duet.sync.peering;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.zip.CRC32C;

/**
 * The peers file: magic, version, count, then per peer name, UUID, address and DER certificate,
 * followed by a CRC32C of everything before it. Any damage is an {@link IOException} naming what is
 * wrong; nothing half-parsed escapes.
 */
final class PeerStoreFormat {
  static final int MAGIC = 0x44504552; // "DPER"
  static final int VERSION = 1;
  static final int MAX_PEERS = 64;
  static final int MAX_STRING_BYTES = 1024;
  static final int MAX_CERT_BYTES = 16 * 1024;

  private PeerStoreFormat() {}

  static byte[] encode(List<PeerRecord> peers) {
    if (peers.size() > MAX_PEERS) {
      throw new IllegalArgumentException("at most " + MAX_PEERS + " peers");
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(MAGIC);
      out.writeInt(VERSION);
      out.writeInt(peers.size());
      for (PeerRecord p : peers) {
        writeString(out, p.name());
        out.writeLong(p.siteId().getMostSignificantBits());
        out.writeLong(p.siteId().getLeastSignificantBits());
        writeString(out, p.address());
        byte[] der = SiteIdentity.der(p.certificate());
        out.writeInt(der.length);
        out.write(der);
      }
      CRC32C crc = new CRC32C();
      crc.update(bytes.toByteArray());
      out.writeInt((int) crc.getValue());
    } catch (IOException e) {
      throw new IllegalStateException(e); // in-memory streams do not fail
    }
    return bytes.toByteArray();
  }

  static List<PeerRecord> decode(byte[] data) throws IOException {
    if (data.length < 16) {
      throw new IOException("peers file too short (" + data.length + " bytes)");
    }
    CRC32C crc = new CRC32C();
    crc.update(data, 0, data.length - 4);
    ByteBuffer buf = ByteBuffer.wrap(data);
    if (buf.getInt(data.length - 4) != (int) crc.getValue()) {
      throw new IOException("peers file checksum mismatch");
    }
    buf.limit(data.length - 4);
    try {
      if (buf.getInt() != MAGIC) {
        throw new IOException("not a peers file (bad magic)");
      }
      int version = buf.getInt();
      if (version != VERSION) {
        throw new IOException("unsupported peers file version " + version);
      }
      int count = buf.getInt();
      if (count < 0 || count > MAX_PEERS) {
        throw new IOException("bad peer count " + count);
      }
      List<PeerRecord> peers = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        String name = readString(buf, "name");
        UUID id = new UUID(buf.getLong(), buf.getLong());
        String address = readString(buf, "address");
        int len = buf.getInt();
        if (len <= 0 || len > MAX_CERT_BYTES || len > buf.remaining()) {
          throw new IOException("bad certificate length " + len);
        }
        byte[] der = new byte[len];
        buf.get(der);
        X509Certificate cert = SiteIdentity.parseCertificateDer(der);
        peers.add(new PeerRecord(name, id, address, cert));
      }
      if (buf.hasRemaining()) {
        throw new IOException(buf.remaining() + " stray bytes after the last peer");
      }
      return peers;
    } catch (BufferUnderflowException e) {
      throw new IOException("peers file truncated", e);
    }
  }

  private static void writeString(DataOutputStream out, String s) throws IOException {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    if (b.length > MAX_STRING_BYTES) {
      throw new IllegalArgumentException("string too long: " + b.length + " bytes");
    }
    out.writeShort(b.length);
    out.write(b);
  }

  private static String readString(ByteBuffer buf, String what) throws IOException {
    int len = Short.toUnsignedInt(buf.getShort());
    if (len > MAX_STRING_BYTES || len > buf.remaining()) {
      throw new IOException("bad " + what + " length " + len);
    }
    byte[] b = new byte[len];
    buf.get(b);
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(b))
          .toString();
    } catch (CharacterCodingException e) {
      throw new IOException(what + " is not UTF-8", e);
    }
  }
}
