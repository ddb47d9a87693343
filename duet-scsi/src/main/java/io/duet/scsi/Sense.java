package io.duet.scsi;

import io.duet.store.VolumeUnavailableException;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Builds fixed-format sense data (SPC-4 4.5.3) and the CHECK CONDITION results that carry it.
 * Constants name the sense keys and the additional sense codes Duet reports.
 */
final class Sense {
  static final int NO_SENSE = 0x0;
  static final int NOT_READY = 0x2;
  static final int MEDIUM_ERROR = 0x3;
  static final int HARDWARE_ERROR = 0x4;
  static final int ILLEGAL_REQUEST = 0x5;
  static final int UNIT_ATTENTION = 0x6;
  static final int DATA_PROTECT = 0x7;
  static final int ABORTED_COMMAND = 0xb;
  static final int MISCOMPARE = 0xe;

  private static final byte[] NONE = new byte[0];
  private static final ByteBuffer EMPTY = ByteBuffer.allocate(0).asReadOnlyBuffer();

  private Sense() {}

  /** 18 bytes of fixed-format sense: response code 70h, current error. */
  static byte[] fixed(int key, int asc, int ascq) {
    byte[] s = new byte[18];
    s[0] = 0x70;
    s[2] = (byte) (key & 0x0f);
    s[7] = 10; // additional sense length: bytes 8..17
    s[12] = (byte) asc;
    s[13] = (byte) ascq;
    return s;
  }

  /** Fixed sense with the VALID bit and a 32-bit INFORMATION field (e.g. miscompare offset). */
  static byte[] withInformation(int key, int asc, int ascq, long information) {
    byte[] s = fixed(key, asc, ascq);
    s[0] = (byte) 0xf0;
    s[3] = (byte) (information >>> 24);
    s[4] = (byte) (information >>> 16);
    s[5] = (byte) (information >>> 8);
    s[6] = (byte) information;
    return s;
  }

  /**
   * ILLEGAL REQUEST with a sense-key-specific field pointer (SKSV): which CDB or parameter byte
   * (and bit, when {@code bit >= 0}) was wrong, as libiscsi and sg3_utils print it.
   */
  static byte[] illegalField(int asc, int ascq, boolean inCdb, int byteOffset, int bit) {
    byte[] s = fixed(ILLEGAL_REQUEST, asc, ascq);
    int b = 0x80 | (inCdb ? 0x40 : 0);
    if (bit >= 0) {
      b |= 0x08 | (bit & 0x7);
    }
    s[15] = (byte) b;
    s[16] = (byte) (byteOffset >>> 8);
    s[17] = (byte) byteOffset;
    return s;
  }

  static ScsiResult check(int key, int asc, int ascq) {
    return new ScsiResult(ScsiResult.CHECK_CONDITION, fixed(key, asc, ascq), EMPTY);
  }

  static ScsiResult check(byte[] sense) {
    return new ScsiResult(ScsiResult.CHECK_CONDITION, sense, EMPTY);
  }

  /** 05/20/00 INVALID COMMAND OPERATION CODE. */
  static ScsiResult invalidOpcode() {
    return check(illegalField(0x20, 0x00, true, 0, -1));
  }

  /** 05/24/00 INVALID FIELD IN CDB, pointing at the offending byte. */
  static ScsiResult invalidCdbField(int byteOffset) {
    return check(illegalField(0x24, 0x00, true, byteOffset, -1));
  }

  /** 05/26/00 INVALID FIELD IN PARAMETER LIST, pointing at the offending byte. */
  static ScsiResult invalidParameterField(int byteOffset) {
    return check(illegalField(0x26, 0x00, false, byteOffset, -1));
  }

  /** 05/21/00 LOGICAL BLOCK ADDRESS OUT OF RANGE. */
  static ScsiResult lbaOutOfRange() {
    return check(ILLEGAL_REQUEST, 0x21, 0x00);
  }

  /** 05/1A/00 PARAMETER LIST LENGTH ERROR. */
  static ScsiResult parameterListLength() {
    return check(ILLEGAL_REQUEST, 0x1a, 0x00);
  }

  /** 07/27/00 WRITE PROTECTED. */
  static ScsiResult writeProtected() {
    return check(DATA_PROTECT, 0x27, 0x00);
  }

  /**
   * The answer to a failed volume operation: 02/04/0C when the volume is not served at this site
   * (the host must take a path to the other site, and must not see a medium error that would make
   * it fail the I/O), otherwise MEDIUM ERROR with {@code asc}/{@code ascq} (11/00 read, 0C/00
   * write).
   */
  static ScsiResult ioFailure(IOException e, int asc, int ascq) {
    if (e instanceof VolumeUnavailableException) {
      return unavailable();
    }
    return check(MEDIUM_ERROR, asc, ascq);
  }

  /** 02/04/0C LOGICAL UNIT NOT ACCESSIBLE, TARGET PORT IN UNAVAILABLE STATE. */
  static ScsiResult unavailable() {
    return check(NOT_READY, 0x04, 0x0c);
  }

  /** 05/0E/03 INVALID FIELD IN COMMAND INFORMATION UNIT: less Data-Out than the CDB asks for. */
  static ScsiResult dataOutTooShort() {
    return check(ILLEGAL_REQUEST, 0x0e, 0x03);
  }

  /** 04/44/00 INTERNAL TARGET FAILURE: a bug or an unexpected state, never bad input. */
  static ScsiResult internalFailure() {
    return check(HARDWARE_ERROR, 0x44, 0x00);
  }

  /** 0E/1D/00 MISCOMPARE DURING VERIFY OPERATION with the byte offset in INFORMATION. */
  static ScsiResult miscompare(long byteOffset) {
    return check(withInformation(MISCOMPARE, 0x1d, 0x00, byteOffset));
  }

  /**
   * Converts fixed-format sense (70h/71h) to descriptor format (72h/73h, SPC-4 4.5.2) for REQUEST
   * SENSE with DESC=1: key/ASC/ASCQ move to bytes 1..3, a valid INFORMATION field becomes an
   * information descriptor and a sense-key-specific field a sense key specific descriptor.
   */
  static byte[] toDescriptor(byte[] fixed) {
    boolean info = (fixed[0] & 0x80) != 0;
    boolean sks = fixed.length > 15 && (fixed[15] & 0x80) != 0;
    byte[] d = new byte[8 + (info ? 12 : 0) + (sks ? 8 : 0)];
    d[0] = (byte) ((fixed[0] & 0x7f) == 0x71 ? 0x73 : 0x72);
    d[1] = (byte) (fixed[2] & 0x0f);
    d[2] = fixed[12];
    d[3] = fixed[13];
    d[7] = (byte) (d.length - 8);
    int p = 8;
    if (info) {
      d[p] = 0x00;
      d[p + 1] = 0x0a;
      d[p + 2] = (byte) 0x80;
      System.arraycopy(fixed, 3, d, p + 8, 4);
      p += 12;
    }
    if (sks) {
      d[p] = 0x02;
      d[p + 1] = 0x06;
      System.arraycopy(fixed, 15, d, p + 4, 3);
    }
    return d;
  }

  static ScsiResult good() {
    return new ScsiResult(ScsiResult.GOOD, NONE, EMPTY);
  }

  static ScsiResult good(ByteBuffer dataIn) {
    return new ScsiResult(ScsiResult.GOOD, NONE, dataIn);
  }

  static ScsiResult reservationConflict() {
    return new ScsiResult(ScsiResult.RESERVATION_CONFLICT, NONE, EMPTY);
  }
}
