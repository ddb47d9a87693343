package io.duet.testkit;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A deliberately small iSCSI initiator for tests: logs in without authentication (straight to the
 * operational stage), sends SCSI commands with all their Data-Out as immediate data, and can write
 * arbitrary bytes to the target for hostile-input tests. It is not a general initiator: one command
 * at a time, no digests, no R2T handling beyond FirstBurstLength.
 */
public final class RawInitiator implements AutoCloseable {
  /** A SCSI command's outcome as the target reported it. */
  public record Response(int status, byte[] sense, byte[] data, int flags, int residual) {
    public int senseKey() {
      return sense.length > 2 ? sense[2] & 0x0f : 0;
    }

    public int asc() {
      return sense.length > 12 ? sense[12] & 0xff : 0;
    }

    public int ascq() {
      return sense.length > 13 ? sense[13] & 0xff : 0;
    }
  }

  /** A login the target refused, with its status class and detail. */
  public static final class LoginRefused extends IOException {
    private static final long serialVersionUID = 1L;

    public final int statusClass;
    public final int statusDetail;

    LoginRefused(int statusClass, int statusDetail) {
      super(String.format("login refused: status 0x%02x%02x", statusClass, statusDetail));
      this.statusClass = statusClass;
      this.statusDetail = statusDetail;
    }
  }

  private final Socket socket;
  private final DataInputStream in;
  private final OutputStream out;
  private int cmdSn = 1;
  private int expStatSn;
  private int itt = 1;

  private RawInitiator(Socket socket) throws IOException {
    this.socket = socket;
    socket.setTcpNoDelay(true);
    socket.setSoTimeout(30_000);
    this.in = new DataInputStream(socket.getInputStream());
    this.out = socket.getOutputStream();
  }

  /** Opens a TCP connection without logging in (for hostile-input tests). */
  public static RawInitiator connect(InetSocketAddress portal) throws IOException {
    Socket s = new Socket();
    s.connect(portal, 10_000);
    return new RawInitiator(s);
  }

  /** Connects and logs in to {@code targetName} as {@code initiatorName}, no authentication. */
  public static RawInitiator login(
      InetSocketAddress portal, String initiatorName, String targetName, long isid)
      throws IOException {
    RawInitiator r = connect(portal);
    try {
      r.doLogin(initiatorName, targetName, isid);
      return r;
    } catch (IOException | RuntimeException e) {
      r.close();
      throw e;
    }
  }

  private void doLogin(String initiatorName, String targetName, long isid) throws IOException {
    Map<String, String> keys = new LinkedHashMap<>();
    keys.put("InitiatorName", initiatorName);
    keys.put("TargetName", targetName);
    keys.put("SessionType", "Normal");
    keys.put("AuthMethod", "None");
    // Security stage first (CSG=0), asking to move to operational.
    byte[] hdr = new byte[48];
    hdr[0] = 0x43; // login request, immediate
    hdr[1] = (byte) 0x81; // T=1, CSG=0, NSG=1
    putIsid(hdr, isid);
    exchangeLogin(hdr, keys);
    keys.clear();
    keys.put("HeaderDigest", "None");
    keys.put("DataDigest", "None");
    keys.put("ImmediateData", "Yes");
    keys.put("InitialR2T", "No");
    keys.put("FirstBurstLength", "262144");
    keys.put("MaxBurstLength", "262144");
    keys.put("MaxRecvDataSegmentLength", "262144");
    keys.put("ErrorRecoveryLevel", "0");
    hdr = new byte[48];
    hdr[0] = 0x43;
    hdr[1] = (byte) 0x87; // T=1, CSG=1, NSG=3
    putIsid(hdr, isid);
    exchangeLogin(hdr, keys);
  }

  private static void putIsid(byte[] hdr, long isid) {
    for (int i = 0; i < 6; i++) {
      hdr[8 + i] = (byte) (isid >>> (8 * (5 - i)));
    }
  }

  private void exchangeLogin(byte[] hdr, Map<String, String> keys) throws IOException {
    StringBuilder sb = new StringBuilder();
    keys.forEach((k, v) -> sb.append(k).append('=').append(v).append('\0'));
    byte[] data = sb.toString().getBytes(StandardCharsets.UTF_8);
    putInt(hdr, 16, itt);
    putInt(hdr, 24, cmdSn);
    putInt(hdr, 28, expStatSn);
    sendPdu(hdr, data);
    Pdu rsp = readPdu();
    if ((rsp.header[0] & 0x3f) != 0x23) {
      throw new IOException(
          "expected a login response, got opcode 0x" + Integer.toHexString(rsp.header[0] & 0x3f));
    }
    int cls = rsp.header[36] & 0xff;
    int detail = rsp.header[37] & 0xff;
    if (cls != 0) {
      throw new LoginRefused(cls, detail);
    }
    expStatSn = getInt(rsp.header, 24) + 1;
  }

  /** Sends one SCSI command to {@code lun} with all Data-Out immediate, waits for its outcome. */
  public Response command(int lun, byte[] cdb, byte[] dataOut, int expectedDataIn)
      throws IOException {
    byte[] hdr = new byte[48];
    boolean write = dataOut != null && dataOut.length > 0;
    hdr[0] = 0x01;
    hdr[1] =
        (byte)
            (0x80 | (write ? 0x20 : 0) | (expectedDataIn > 0 ? 0x40 : 0) | 0x01); // F, W/R, SIMPLE
    hdr[9] = (byte) lun; // single-level LUN, peripheral addressing, LUN < 256
    int task = itt++;
    putInt(hdr, 16, task);
    putInt(hdr, 20, write ? dataOut.length : expectedDataIn);
    putInt(hdr, 24, cmdSn++);
    putInt(hdr, 28, expStatSn);
    System.arraycopy(cdb, 0, hdr, 32, Math.min(16, cdb.length));
    sendPdu(hdr, write ? dataOut : new byte[0]);
    ByteArrayOutputStream data = new ByteArrayOutputStream();
    while (true) {
      Pdu p = readPdu();
      int op = p.header[0] & 0x3f;
      if (op == 0x20) { // NOP-In: answer target pings
        if (getInt(p.header, 20) != -1) {
          byte[] nop = new byte[48];
          nop[0] = 0x40;
          nop[1] = (byte) 0x80;
          putInt(nop, 16, -1);
          System.arraycopy(p.header, 20, nop, 20, 4);
          putInt(nop, 24, cmdSn);
          putInt(nop, 28, expStatSn);
          sendPdu(nop, new byte[0]);
        }
        continue;
      }
      if (op == 0x25) { // Data-In
        data.write(p.data);
        if ((p.header[1] & 0x01) != 0) { // S bit: status included
          expStatSn = getInt(p.header, 24) + 1;
          return new Response(
              p.header[3] & 0xff,
              new byte[0],
              data.toByteArray(),
              p.header[1] & 0xff,
              getInt(p.header, 44));
        }
        continue;
      }
      if (op == 0x21) { // SCSI response
        expStatSn = getInt(p.header, 24) + 1;
        byte[] sense = new byte[0];
        if (p.data.length >= 2) {
          int len = ((p.data[0] & 0xff) << 8) | (p.data[1] & 0xff);
          sense = java.util.Arrays.copyOfRange(p.data, 2, 2 + Math.min(len, p.data.length - 2));
        }
        return new Response(
            p.header[3] & 0xff,
            sense,
            data.toByteArray(),
            p.header[1] & 0xff,
            getInt(p.header, 44));
      }
      if (op == 0x3f) {
        throw new IOException(
            "target sent Reject, reason 0x" + Integer.toHexString(p.header[2] & 0xff));
      }
      throw new IOException("unexpected PDU opcode 0x" + Integer.toHexString(op));
    }
  }

  /** Logs out (close session) and waits for the response. */
  public void logout() throws IOException {
    byte[] hdr = new byte[48];
    hdr[0] = 0x46;
    hdr[1] = (byte) 0x80;
    putInt(hdr, 16, itt++);
    putInt(hdr, 24, cmdSn);
    putInt(hdr, 28, expStatSn);
    sendPdu(hdr, new byte[0]);
    Pdu p = readPdu();
    if ((p.header[0] & 0x3f) != 0x26) {
      throw new IOException("expected logout response");
    }
  }

  /** Writes raw bytes to the connection (hostile-input tests). */
  public void sendRaw(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
  }

  /** A PDU as received: 48-byte header and its data segment (padding stripped). */
  public record Pdu(byte[] header, byte[] data) {
    public int opcode() {
      return header[0] & 0x3f;
    }
  }

  /** Reads one PDU; throws EOFException when the target closed the connection. */
  public Pdu readPdu() throws IOException {
    byte[] header = new byte[48];
    in.readFully(header);
    int ahs = (header[4] & 0xff) * 4;
    int len = ((header[5] & 0xff) << 16) | ((header[6] & 0xff) << 8) | (header[7] & 0xff);
    if (len > 16 << 20) {
      throw new IOException("data segment too large: " + len);
    }
    in.skipNBytes(ahs);
    byte[] data = new byte[len];
    in.readFully(data);
    in.skipNBytes((4 - (len & 3)) & 3);
    return new Pdu(header, data);
  }

  /** Whether the target has closed the connection (reads until EOF or the timeout). */
  public boolean closedByTarget(int timeoutMs) throws IOException {
    socket.setSoTimeout(timeoutMs);
    try {
      while (in.read() >= 0) {
        // drain whatever the target still sends before it closes
      }
      return true;
    } catch (java.net.SocketTimeoutException e) {
      return false;
    } catch (EOFException | java.net.SocketException e) {
      return true;
    }
  }

  public void sendPdu(byte[] header, byte[] data) throws IOException {
    header[5] = (byte) (data.length >>> 16);
    header[6] = (byte) (data.length >>> 8);
    header[7] = (byte) data.length;
    out.write(header);
    out.write(data);
    out.write(new byte[(4 - (data.length & 3)) & 3]);
    out.flush();
  }

  static void putInt(byte[] b, int off, int v) {
    b[off] = (byte) (v >>> 24);
    b[off + 1] = (byte) (v >>> 16);
    b[off + 2] = (byte) (v >>> 8);
    b[off + 3] = (byte) v;
  }

  static int getInt(byte[] b, int off) {
    return ((b[off] & 0xff) << 24)
        | ((b[off + 1] & 0xff) << 16)
        | ((b[off + 2] & 0xff) << 8)
        | (b[off + 3] & 0xff);
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
