package io.duet.iscsi;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.util.zip.CRC32C;

/**
 * Reads PDUs from a blocking channel in two steps, header then data, so the caller can steer the
 * data segment straight into its final buffer (a write command's Data-Out lands where it belongs
 * without a copy). Never allocates from a length read off the wire: the data segment is refused
 * above the negotiated limit and everything else reuses fixed buffers. Not thread-safe: one reader
 * thread per connection.
 */
final class PduReader {
  /** TotalAHSLength is one byte of 4-byte words. */
  static final int MAX_AHS_BYTES = 255 * 4;

  private static final int SCRATCH_BYTES = 64 * 1024;

  private final ReadableByteChannel channel;
  private final ByteBuffer headerBuffer = ByteBuffer.allocateDirect(Bhs.LENGTH);
  private final ByteBuffer ahsBuffer = ByteBuffer.allocateDirect(MAX_AHS_BYTES);
  private final ByteBuffer tailBuffer = ByteBuffer.allocateDirect(8);
  private final ByteBuffer scratch = ByteBuffer.allocateDirect(SCRATCH_BYTES);
  private final byte[] ahs = new byte[MAX_AHS_BYTES];
  private final CRC32C crc = new CRC32C();

  private int ahsLength;
  private int pendingData = -1;
  private boolean headerDigest;
  private boolean dataDigest;
  private int maxDataSegmentLength;

  PduReader(ReadableByteChannel channel, int maxDataSegmentLength) {
    this.channel = channel;
    this.maxDataSegmentLength = maxDataSegmentLength;
  }

  /** Turns digests on or off and sets the largest data segment accepted (after login). */
  void configure(boolean headerDigest, boolean dataDigest, int maxDataSegmentLength) {
    this.headerDigest = headerDigest;
    this.dataDigest = dataDigest;
    this.maxDataSegmentLength = maxDataSegmentLength;
  }

  /**
   * Reads the next BHS (plus AHS and header digest) into {@code bhs}.
   *
   * @return false on a clean end of stream before the first byte of a PDU
   * @throws PduException a fatal protocol error; the connection must close
   */
  boolean readHeader(Bhs bhs) throws IOException, PduException {
    if (pendingData >= 0) {
      throw new IllegalStateException("data segment of the previous PDU not consumed");
    }
    headerBuffer.clear();
    if (!fill(headerBuffer, true)) {
      return false;
    }
    headerBuffer.flip();
    headerBuffer.get(bhs.bytes);
    ahsLength = bhs.totalAhsWords() * 4;
    if (ahsLength > 0) {
      ahsBuffer.clear().limit(ahsLength);
      fill(ahsBuffer, false);
      ahsBuffer.flip();
      ahsBuffer.get(ahs, 0, ahsLength);
    }
    if (headerDigest) {
      crc.reset();
      crc.update(bhs.bytes, 0, Bhs.LENGTH);
      crc.update(ahs, 0, ahsLength);
      int expected = readDigest();
      if (expected != (int) crc.getValue()) {
        throw new PduException(PduException.PROTOCOL_ERROR, true, "header digest mismatch");
      }
    }
    int length = bhs.dataSegmentLength();
    if (length > maxDataSegmentLength) {
      throw new PduException(
          PduException.PROTOCOL_ERROR,
          true,
          "data segment of "
              + length
              + " bytes exceeds MaxRecvDataSegmentLength "
              + maxDataSegmentLength);
    }
    pendingData = length;
    return true;
  }

  /** Bytes of the additional header segments of the last header (0 when none). */
  int ahsLength() {
    return ahsLength;
  }

  /** The AHS bytes of the last header; valid up to {@link #ahsLength()}. */
  byte[] ahs() {
    return ahs;
  }

  /** Bytes of data segment the last header announced that are still unread. */
  int pendingData() {
    return Math.max(pendingData, 0);
  }

  /**
   * Reads the data segment: the first {@code dst.remaining()} bytes into {@code dst}, anything
   * beyond is read and discarded; then padding and data digest.
   *
   * @throws PduException with reason data-digest error when the digest does not match; the stream
   *     stays in step, so the connection may continue
   */
  void readData(ByteBuffer dst) throws IOException, PduException {
    int length = pendingData;
    if (length < 0) {
      throw new IllegalStateException("no header read");
    }
    pendingData = -1;
    if (dataDigest) {
      crc.reset();
    }
    int intoDst = Math.min(dst.remaining(), length);
    if (intoDst > 0) {
      int start = dst.position();
      int savedLimit = dst.limit();
      dst.limit(start + intoDst);
      fill(dst, false);
      dst.limit(savedLimit);
      if (dataDigest) {
        int end = dst.position();
        dst.position(start).limit(end);
        crc.update(dst);
        dst.limit(savedLimit);
      }
    }
    discard(length - intoDst);
    int pad = (4 - (length & 3)) & 3;
    if (pad > 0) {
      tailBuffer.clear().limit(pad);
      fill(tailBuffer, false);
      if (dataDigest) {
        tailBuffer.flip();
        crc.update(tailBuffer);
      }
    }
    if (dataDigest && length > 0) {
      int expected = readDigest();
      if (expected != (int) crc.getValue()) {
        throw new PduException(PduException.DATA_DIGEST_ERROR, false, "data digest mismatch");
      }
    }
  }

  /** Reads and drops the data segment. */
  void skipData() throws IOException, PduException {
    readData(scratch.clear().limit(0));
  }

  private void discard(int count) throws IOException {
    while (count > 0) {
      scratch.clear().limit(Math.min(count, SCRATCH_BYTES));
      fill(scratch, false);
      if (dataDigest) {
        scratch.flip();
        crc.update(scratch);
      }
      count -= scratch.limit();
    }
  }

  private int readDigest() throws IOException {
    tailBuffer.clear().limit(4);
    fill(tailBuffer, false);
    // CRC32C digests go on the wire least significant byte first (RFC 7143 13.1).
    return (tailBuffer.get(0) & 0xff)
        | (tailBuffer.get(1) & 0xff) << 8
        | (tailBuffer.get(2) & 0xff) << 16
        | (tailBuffer.get(3) & 0xff) << 24;
  }

  private boolean fill(ByteBuffer dst, boolean eofAllowedAtStart) throws IOException {
    boolean first = true;
    while (dst.hasRemaining()) {
      int n = channel.read(dst);
      if (n < 0) {
        if (first && eofAllowedAtStart) {
          return false;
        }
        throw new EOFException("connection closed inside a PDU");
      }
      first = first && n == 0;
    }
    return true;
  }
}
