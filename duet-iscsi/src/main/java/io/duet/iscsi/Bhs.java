package io.duet.iscsi;

import java.util.Arrays;

/**
 * The 48-byte Basic Header Segment of one iSCSI PDU (RFC 7143 11.2.1) with big-endian field
 * accessors. Mutable and reused: a connection keeps one for reading and the writer one for sending,
 * so no header garbage is made per PDU.
 */
final class Bhs {
  static final int LENGTH = 48;

  // Initiator opcodes.
  static final int NOP_OUT = 0x00;
  static final int SCSI_COMMAND = 0x01;
  static final int TASK_MGMT_REQUEST = 0x02;
  static final int LOGIN_REQUEST = 0x03;
  static final int TEXT_REQUEST = 0x04;
  static final int DATA_OUT = 0x05;
  static final int LOGOUT_REQUEST = 0x06;
  static final int SNACK_REQUEST = 0x10;
  // Target opcodes.
  static final int NOP_IN = 0x20;
  static final int SCSI_RESPONSE = 0x21;
  static final int TASK_MGMT_RESPONSE = 0x22;
  static final int LOGIN_RESPONSE = 0x23;
  static final int TEXT_RESPONSE = 0x24;
  static final int DATA_IN = 0x25;
  static final int LOGOUT_RESPONSE = 0x26;
  static final int R2T = 0x31;
  static final int ASYNC_MESSAGE = 0x32;
  static final int REJECT = 0x3f;

  static final int RESERVED_TAG = 0xffffffff;

  final byte[] bytes = new byte[LENGTH];

  void clear() {
    Arrays.fill(bytes, (byte) 0);
  }

  void copyFrom(Bhs other) {
    System.arraycopy(other.bytes, 0, bytes, 0, LENGTH);
  }

  int opcode() {
    return bytes[0] & 0x3f;
  }

  boolean immediate() {
    return (bytes[0] & 0x40) != 0;
  }

  /** Byte 1: the final bit and opcode-specific flags. */
  int flags() {
    return bytes[1] & 0xff;
  }

  boolean finalBit() {
    return (bytes[1] & 0x80) != 0;
  }

  int totalAhsWords() {
    return bytes[4] & 0xff;
  }

  int dataSegmentLength() {
    return ((bytes[5] & 0xff) << 16) | ((bytes[6] & 0xff) << 8) | (bytes[7] & 0xff);
  }

  void dataSegmentLength(int length) {
    if (length < 0 || length > 0xffffff) {
      throw new IllegalArgumentException("data segment length " + length);
    }
    bytes[4] = 0;
    bytes[5] = (byte) (length >>> 16);
    bytes[6] = (byte) (length >>> 8);
    bytes[7] = (byte) length;
  }

  int u8(int offset) {
    return bytes[offset] & 0xff;
  }

  void u8(int offset, int value) {
    bytes[offset] = (byte) value;
  }

  int u16(int offset) {
    return ((bytes[offset] & 0xff) << 8) | (bytes[offset + 1] & 0xff);
  }

  void u16(int offset, int value) {
    bytes[offset] = (byte) (value >>> 8);
    bytes[offset + 1] = (byte) value;
  }

  int i32(int offset) {
    return ((bytes[offset] & 0xff) << 24)
        | ((bytes[offset + 1] & 0xff) << 16)
        | ((bytes[offset + 2] & 0xff) << 8)
        | (bytes[offset + 3] & 0xff);
  }

  void i32(int offset, int value) {
    bytes[offset] = (byte) (value >>> 24);
    bytes[offset + 1] = (byte) (value >>> 16);
    bytes[offset + 2] = (byte) (value >>> 8);
    bytes[offset + 3] = (byte) value;
  }

  long u48(int offset) {
    long v = 0;
    for (int i = 0; i < 6; i++) {
      v = (v << 8) | (bytes[offset + i] & 0xff);
    }
    return v;
  }

  void u48(int offset, long value) {
    for (int i = 5; i >= 0; i--) {
      bytes[offset + i] = (byte) value;
      value >>>= 8;
    }
  }

  long i64(int offset) {
    return ((long) i32(offset) << 32) | (i32(offset + 4) & 0xffffffffL);
  }

  void i64(int offset, long value) {
    i32(offset, (int) (value >>> 32));
    i32(offset + 4, (int) value);
  }

  int itt() {
    return i32(16);
  }

  /** CmdSN in initiator PDUs, StatSN in target PDUs. */
  int sn24() {
    return i32(24);
  }

  /** ExpStatSN in initiator PDUs, ExpCmdSN in target PDUs. */
  int sn28() {
    return i32(28);
  }

  static String opcodeName(int opcode) {
    return switch (opcode) {
      case NOP_OUT -> "NOP-Out";
      case SCSI_COMMAND -> "SCSI Command";
      case TASK_MGMT_REQUEST -> "Task Management";
      case LOGIN_REQUEST -> "Login";
      case TEXT_REQUEST -> "Text";
      case DATA_OUT -> "Data-Out";
      case LOGOUT_REQUEST -> "Logout";
      case SNACK_REQUEST -> "SNACK";
      default -> String.format("opcode 0x%02x", opcode);
    };
  }
}
