package io.duet.scsi;

import java.nio.charset.StandardCharsets;

/**
 * The Device Identification VPD page (0x83): the LU's NAA-6 designator (identical at both sites, so
 * multipath sees one device), and for the port the command came through its relative target port
 * id, target port group and SCSI name string, plus the target device's name.
 */
final class DeviceIdentification {
  private static final int PROTOCOL_ISCSI = 5;
  private static final int CODE_BINARY = 1;
  private static final int CODE_UTF8 = 3;
  private static final int ASSOC_LU = 0;
  private static final int ASSOC_PORT = 1;
  private static final int ASSOC_TARGET = 2;

  private DeviceIdentification() {}

  static byte[] page(byte[] naa, TargetPort port) {
    byte[] portName = nameString(port.name());
    byte[] targetName = nameString(port.targetName());
    int length = (4 + naa.length) + 8 + 8 + (4 + portName.length) + (4 + targetName.length);
    byte[] d = new byte[4 + length];
    d[1] = (byte) 0x83;
    BigEndian.put16(d, 2, length);
    int p = 4;
    p = designator(d, p, CODE_BINARY, false, ASSOC_LU, 3, naa);
    p = designator(d, p, CODE_BINARY, true, ASSOC_PORT, 4, id(port.relativeId()));
    p = designator(d, p, CODE_BINARY, true, ASSOC_PORT, 5, id(port.portGroupId()));
    p = designator(d, p, CODE_UTF8, true, ASSOC_PORT, 8, portName);
    designator(d, p, CODE_UTF8, true, ASSOC_TARGET, 8, targetName);
    return d;
  }

  private static int designator(
      byte[] d, int p, int codeSet, boolean piv, int association, int type, byte[] value) {
    d[p] = (byte) ((piv ? PROTOCOL_ISCSI << 4 : 0) | codeSet);
    d[p + 1] = (byte) ((piv ? 0x80 : 0) | association << 4 | type);
    d[p + 3] = (byte) value.length;
    System.arraycopy(value, 0, d, p + 4, value.length);
    return p + 4 + value.length;
  }

  private static byte[] id(int value) {
    byte[] b = new byte[4];
    BigEndian.put16(b, 2, value);
    return b;
  }

  /** SPC-4: null-terminated, padded with nulls to a multiple of 4 bytes, at most 256 bytes. */
  private static byte[] nameString(String name) {
    byte[] s = name.getBytes(StandardCharsets.UTF_8);
    int n = Math.min(s.length, 251);
    byte[] b = new byte[(n + 4) & ~3];
    System.arraycopy(s, 0, b, 0, n);
    return b;
  }
}
