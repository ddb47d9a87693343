package io.duet.iscsi;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/** A minimal raw iSCSI initiator for tests: builds PDUs byte by byte, no digests. */
final class TestInitiator implements AutoCloseable {
  /** One received PDU. */
  record Pdu(Bhs bhs, byte[] data) {
    int opcode() {
      return bhs.opcode();
    }

    Map<String, String> keys() {
      Map<String, String> m = new LinkedHashMap<>();
      for (String kv : new String(data, StandardCharsets.UTF_8).split("\0")) {
        int eq = kv.indexOf('=');
        if (eq > 0) {
          m.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
      }
      return m;
    }
  }

  static final String NAME = "iqn.2026-11.io.duet:test-initiator";

  final Socket socket;
  final InputStream in;
  final OutputStream out;
  int cmdSn = 1;
  int expStatSn;
  int itt = 1;

  TestInitiator(InetSocketAddress address) throws IOException {
    socket = new Socket(address.getAddress(), address.getPort());
    socket.setSoTimeout(10_000);
    in = socket.getInputStream();
    out = socket.getOutputStream();
  }

  static Bhs header(int opcode, int flags) {
    Bhs b = new Bhs();
    b.u8(0, opcode);
    b.u8(1, flags);
    return b;
  }

  void send(Bhs b, byte[] data) throws IOException {
    b.dataSegmentLength(data.length);
    out.write(b.bytes);
    out.write(data);
    out.write(new byte[(4 - (data.length & 3)) & 3]);
    out.flush();
  }

  Pdu receive() throws IOException {
    Bhs b = new Bhs();
    readFully(b.bytes);
    byte[] ahs = new byte[b.totalAhsWords() * 4];
    readFully(ahs);
    byte[] data = new byte[b.dataSegmentLength()];
    readFully(data);
    readFully(new byte[(4 - (data.length & 3)) & 3]);
    return new Pdu(b, data);
  }

  private void readFully(byte[] buf) throws IOException {
    int off = 0;
    while (off < buf.length) {
      int n = in.read(buf, off, buf.length - off);
      if (n < 0) {
        throw new EOFException();
      }
      off += n;
    }
  }

  /** True when the target closed the connection (EOF) within the socket timeout. */
  boolean closedByTarget() {
    try {
      while (true) {
        receive();
      }
    } catch (EOFException e) {
      return true;
    } catch (IOException e) {
      return e.getMessage() != null && e.getMessage().contains("reset");
    }
  }

  static byte[] text(String... pairs) {
    StringBuilder sb = new StringBuilder();
    for (String p : pairs) {
      sb.append(p).append('\0');
    }
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** Sends one login request. */
  Pdu login(boolean transit, int csg, int nsg, long isid, byte[] data) throws IOException {
    Bhs b = header(Bhs.LOGIN_REQUEST, (transit ? 0x80 : 0) | (csg << 2) | (transit ? nsg : 0));
    b.u8(0, 0x40 | Bhs.LOGIN_REQUEST);
    b.u48(8, isid);
    b.i32(16, itt);
    b.i32(24, cmdSn);
    b.i32(28, expStatSn);
    send(b, data);
    Pdu r = receive();
    expStatSn = r.bhs().i32(24) + 1;
    return r;
  }

  /** Logs in to a normal session without authentication, straight to full feature phase. */
  Pdu loginNormal(String target, String... extraKeys) throws IOException {
    java.util.List<String> keys =
        new java.util.ArrayList<>(
            java.util.List.of(
                "InitiatorName=" + NAME, "SessionType=Normal", "TargetName=" + target));
    keys.addAll(java.util.List.of(extraKeys));
    if (keys.stream().noneMatch(k -> k.startsWith("MaxRecvDataSegmentLength="))) {
      keys.add("MaxRecvDataSegmentLength=8192");
    }
    return login(true, 1, 3, 0x400001370000L, text(keys.toArray(String[]::new)));
  }

  /** SCSI command; returns the ITT used. */
  int command(int lun, byte[] cdb, boolean read, boolean write, int edtl, byte[] immediate)
      throws IOException {
    Bhs b = header(Bhs.SCSI_COMMAND, 0x80 | (read ? 0x40 : 0) | (write ? 0x20 : 0) | 1);
    b.i64(8, Lun.encode(lun));
    int t = itt++;
    b.i32(16, t);
    b.i32(20, edtl);
    b.i32(24, cmdSn++);
    b.i32(28, expStatSn);
    System.arraycopy(cdb, 0, b.bytes, 32, Math.min(16, cdb.length));
    send(b, immediate);
    return t;
  }

  void dataOut(int itt, int ttt, int dataSn, int offset, byte[] data, boolean last)
      throws IOException {
    Bhs b = header(Bhs.DATA_OUT, last ? 0x80 : 0);
    b.i32(16, itt);
    b.i32(20, ttt);
    b.i32(28, expStatSn);
    b.i32(36, dataSn);
    b.i32(40, offset);
    send(b, data);
  }

  static byte[] cdb10(int opcode, long lba, int blocks) {
    byte[] c = new byte[16];
    c[0] = (byte) opcode;
    c[2] = (byte) (lba >>> 24);
    c[3] = (byte) (lba >>> 16);
    c[4] = (byte) (lba >>> 8);
    c[5] = (byte) lba;
    c[7] = (byte) (blocks >>> 8);
    c[8] = (byte) blocks;
    return c;
  }

  static byte[] repeat(int value, int length) {
    byte[] b = new byte[length];
    Arrays.fill(b, (byte) value);
    return b;
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
