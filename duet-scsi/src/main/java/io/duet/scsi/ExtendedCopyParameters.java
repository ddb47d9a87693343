package io.duet.scsi;

import io.duet.scsi.ExtendedCopyException.Kind;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * A parsed EXTENDED COPY (LID1) parameter list (SPC-4 6.4): the header, the CSCD descriptors (only
 * type E4h, identification descriptor) and the segment descriptors (only 02h, block to block).
 * Parsing checks lengths and limits in the order libiscsi and SPC-4 expect and never throws
 * anything but {@link ExtendedCopyException}.
 *
 * @param listId LIST IDENTIFIER
 * @param listIdUsage LIST ID USAGE (00b hold results, 10b do not, 11b no list id)
 * @param targets the copy targets, in descriptor order (segments refer to them by index)
 * @param segments what to copy
 */
record ExtendedCopyParameters(
    int listId, int listIdUsage, List<Target> targets, List<Segment> segments) {

  static final int HEADER_LENGTH = 16;
  static final int TARGET_LENGTH = 32;
  static final int BLOCK_SEGMENT_LENGTH = 28;
  static final int TYPE_IDENTIFICATION = 0xe4;
  static final int TYPE_BLOCK_TO_BLOCK = 0x02;
  static final int USAGE_HOLD = 0b00;
  static final int USAGE_NO_HOLD = 0b10;
  static final int USAGE_NO_LIST_ID = 0b11;

  /** Limits the copy manager reports in OPERATING PARAMETERS and the 0x8F VPD page. */
  record Limits(
      int maxTargets, int maxSegments, int maxDescriptorListBytes, long maxSegmentBytes) {}

  /**
   * One CSCD identification descriptor.
   *
   * @param designatorType the designation descriptor's DESIGNATOR TYPE (3 = NAA)
   * @param designator the designator bytes (an NAA-6 designator is 16 bytes)
   * @param blockLength the DISK BLOCK LENGTH the host assumed, 0 if not given
   * @param offset where the descriptor starts in the parameter list
   */
  record Target(int designatorType, byte[] designator, int blockLength, int offset) {}

  /**
   * One block-to-block segment.
   *
   * @param destinationCount DC: {@code blocks} counts destination blocks, not source blocks
   * @param source CSCD index of the source
   * @param destination CSCD index of the destination
   * @param blocks number of blocks (0 copies nothing)
   * @param sourceLba first source block
   * @param destinationLba first destination block
   * @param offset where the descriptor starts in the parameter list
   */
  record Segment(
      boolean destinationCount,
      int source,
      int destination,
      int blocks,
      long sourceLba,
      long destinationLba,
      int offset) {}

  /**
   * Parses the list; an empty result (parameter list length zero) means "nothing to do".
   *
   * @return the parameters, or null when the parameter list length is zero
   */
  static ExtendedCopyParameters parse(byte[] cdb, ByteBuffer parameters, Limits limits)
      throws ExtendedCopyException {
    if (cdb.length < 16) {
      throw new ExtendedCopyException(Kind.INVALID_CDB_FIELD, 0, "EXTENDED COPY CDB too short");
    }
    if ((cdb[1] & 0x1f) != 0) {
      throw new ExtendedCopyException(Kind.INVALID_CDB_FIELD, 1, "only LID1 EXTENDED COPY");
    }
    long length = ByteBuffer.wrap(cdb, 10, 4).getInt() & 0xffffffffL;
    if (length == 0) {
      return null;
    }
    if (length > parameters.remaining()) {
      throw new ExtendedCopyException(
          Kind.DATA_OUT_SHORT, -1, "less Data-Out than PARAMETER LIST LENGTH");
    }
    if (length < HEADER_LENGTH) {
      throw new ExtendedCopyException(Kind.PARAMETER_LIST_LENGTH, -1, "parameter list truncated");
    }
    if (length > HEADER_LENGTH + limits.maxDescriptorListBytes()) {
      throw new ExtendedCopyException(
          Kind.PARAMETER_LIST_LENGTH, -1, "parameter list longer than the copy manager takes");
    }
    byte[] p = new byte[(int) length];
    parameters.duplicate().get(p);
    ByteBuffer b = ByteBuffer.wrap(p);
    int listId = p[0] & 0xff;
    int usage = (p[1] >>> 3) & 0x3;
    long targetBytes = b.getShort(2) & 0xffff;
    long segmentBytes = b.getInt(8) & 0xffffffffL;
    long inlineBytes = b.getInt(12) & 0xffffffffL;
    if (HEADER_LENGTH + targetBytes + segmentBytes + inlineBytes > length) {
      throw new ExtendedCopyException(
          Kind.PARAMETER_LIST_LENGTH, -1, "descriptor lengths exceed the parameter list");
    }
    if (targetBytes + segmentBytes > limits.maxDescriptorListBytes()) {
      throw new ExtendedCopyException(
          Kind.PARAMETER_LIST_LENGTH, -1, "descriptor list exceeds MAXIMUM DESCRIPTOR LIST LENGTH");
    }
    if (inlineBytes != 0) {
      throw new ExtendedCopyException(Kind.INLINE_DATA_TOO_LONG, 12, "inline data not supported");
    }
    if (usage == 0b01 || (usage == USAGE_NO_LIST_ID && listId != 0)) {
      throw new ExtendedCopyException(
          Kind.INVALID_PARAMETER_FIELD, usage == 1 ? 1 : 0, "LIST ID USAGE");
    }
    List<Target> targets = targets(p, (int) targetBytes, limits);
    List<Segment> segments =
        segments(p, HEADER_LENGTH + (int) targetBytes, (int) segmentBytes, limits);
    return new ExtendedCopyParameters(listId, usage, targets, segments);
  }

  private static List<Target> targets(byte[] p, int length, Limits limits)
      throws ExtendedCopyException {
    if (length / TARGET_LENGTH > limits.maxTargets()) {
      throw new ExtendedCopyException(Kind.TOO_MANY_TARGETS, 2, "too many CSCD descriptors");
    }
    List<Target> out = new ArrayList<>();
    int end = HEADER_LENGTH + length;
    for (int at = HEADER_LENGTH; at < end; at += TARGET_LENGTH) {
      int type = p[at] & 0xff;
      if (type != TYPE_IDENTIFICATION) {
        throw new ExtendedCopyException(
            Kind.UNSUPPORTED_TARGET_TYPE, at, "CSCD descriptor type " + Integer.toHexString(type));
      }
      if (at + TARGET_LENGTH > end) {
        throw new ExtendedCopyException(
            Kind.INVALID_PARAMETER_FIELD, 2, "CSCD descriptor list length is not a multiple of 32");
      }
      // Byte 1: LU ID TYPE and NUL are ignored (SPC-4); the device must be a block device.
      if ((p[at + 1] & 0x1f) != 0) {
        throw new ExtendedCopyException(
            Kind.INVALID_PARAMETER_FIELD, at + 1, "copy target is not a block device");
      }
      int designatorType = p[at + 5] & 0x0f;
      int designatorLength = p[at + 7] & 0xff;
      if (designatorLength > 20) {
        throw new ExtendedCopyException(
            Kind.INVALID_PARAMETER_FIELD, at + 7, "designator longer than 20 bytes");
      }
      byte[] designator = new byte[designatorLength];
      System.arraycopy(p, at + 8, designator, 0, designatorLength);
      int blockLength =
          ((p[at + 29] & 0xff) << 16) | ((p[at + 30] & 0xff) << 8) | (p[at + 31] & 0xff);
      out.add(new Target(designatorType, designator, blockLength, at));
    }
    return out;
  }

  private static List<Segment> segments(byte[] p, int start, int length, Limits limits)
      throws ExtendedCopyException {
    List<Segment> out = new ArrayList<>();
    ByteBuffer b = ByteBuffer.wrap(p);
    int end = start + length;
    int at = start;
    while (at < end) {
      if (out.size() == limits.maxSegments()) {
        throw new ExtendedCopyException(Kind.TOO_MANY_SEGMENTS, 8, "too many segment descriptors");
      }
      if (at + 4 > end) {
        throw new ExtendedCopyException(
            Kind.INVALID_PARAMETER_FIELD, at, "segment header cut short");
      }
      int type = p[at] & 0xff;
      int descriptorLength = 4 + (b.getShort(at + 2) & 0xffff);
      if (type != TYPE_BLOCK_TO_BLOCK) {
        throw new ExtendedCopyException(
            Kind.UNSUPPORTED_SEGMENT_TYPE,
            at,
            "segment descriptor type " + Integer.toHexString(type));
      }
      if (descriptorLength != BLOCK_SEGMENT_LENGTH || at + descriptorLength > end) {
        throw new ExtendedCopyException(
            Kind.INVALID_PARAMETER_FIELD, at + 2, "block-to-block segment must be 28 bytes");
      }
      out.add(
          new Segment(
              (p[at + 1] & 0x02) != 0,
              b.getShort(at + 4) & 0xffff,
              b.getShort(at + 6) & 0xffff,
              b.getShort(at + 10) & 0xffff,
              b.getLong(at + 12),
              b.getLong(at + 20),
              at));
      at += descriptorLength;
    }
    return out;
  }
}
