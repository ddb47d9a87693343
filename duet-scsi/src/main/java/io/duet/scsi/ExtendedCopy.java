package io.duet.scsi;

import io.duet.scsi.ExtendedCopyException.Kind;
import io.duet.scsi.ExtendedCopyParameters.Limits;
import io.duet.scsi.ExtendedCopyParameters.Segment;
import io.duet.scsi.ExtendedCopyParameters.Target;
import io.duet.store.Volume;
import io.duet.store.VolumeUnavailableException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The copy manager of one logical unit: EXTENDED COPY (LID1) with block-to-block segments between
 * logical units named by NAA (VMware's clone offload), RECEIVE COPY RESULTS (COPY STATUS, OPERATING
 * PARAMETERS, FAILED SEGMENT DETAILS) and the Third-party Copy VPD page that advertises exactly
 * that. A copy reaches only the LUs its I_T nexus could address itself, with the same rights:
 * read-only mappings and reservations hold for the copy as for the host's own commands. Copies run
 * on the command's thread through a bounded buffer. Thread-safe.
 */
final class ExtendedCopy {
  static final Limits LIMITS = new Limits(8, 32, 1024, 64L << 20);

  /** Bytes moved per read/write pair; one buffer per running copy. */
  static final int CHUNK_BYTES = 1 << 20;

  static final int TOTAL_CONCURRENT_COPIES = 16;
  private static final int COPY_ABORTED = 0x0a;

  /**
   * What the copy does to its source and destination, as commands the issuing nexus could send:
   * reservations are judged on these (a READ(16) and a WRITE(16)).
   */
  private static final byte[] READS = {(byte) 0x88, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};

  private static final byte[] WRITES = {(byte) 0x8a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};

  private final LogicalUnit self;
  private final CopyResults results = new CopyResults();

  ExtendedCopy(LogicalUnit self) {
    this.self = Objects.requireNonNull(self, "self");
  }

  /** A copy target as the issuing nexus reaches it. */
  private record Resolved(LogicalUnit unit, Volume volume, boolean readOnly) {}

  /**
   * A segment with its copy targets resolved and its byte ranges checked; {@code writeThrough} when
   * the destination LU has WCE=0, so its writes are durable before the copy completes.
   */
  private record Planned(
      Volume source,
      long sourceOffset,
      Volume destination,
      long destinationOffset,
      long bytes,
      boolean writeThrough) {}

  /**
   * EXTENDED COPY from {@code nexus}.
   *
   * @param targets the LUs this nexus may name, with its access to each
   */
  ScsiResult extendedCopy(
      ItNexus nexus, byte[] cdb, ByteBuffer parameters, ExtendedCopyTargets targets) {
    ExtendedCopyParameters list;
    try {
      list = ExtendedCopyParameters.parse(cdb, parameters, LIMITS);
    } catch (ExtendedCopyException e) {
      return Sense.check(toSense(e));
    }
    if (list == null) {
      return Sense.good(); // parameter list length zero: nothing to copy (SPC-4)
    }
    boolean track = list.listIdUsage() != ExtendedCopyParameters.USAGE_NO_LIST_ID;
    boolean hold = list.listIdUsage() == ExtendedCopyParameters.USAGE_HOLD;
    CopyResults.Running running = results.begin(nexus, list.listId(), track, hold);
    if (running == null) {
      return Sense.check(
          toSense(new ExtendedCopyException(Kind.LIST_ID_IN_USE, 0, "list id busy")));
    }
    int segmentsDone = 0;
    long bytesDone = 0;
    byte[] failure = null;
    try {
      List<Planned> plan = plan(list, nexus, targets);
      ByteBuffer buffer = ByteBuffer.allocate(CHUNK_BYTES);
      for (int i = 0; i < plan.size(); i++) {
        try {
          bytesDone += copy(plan.get(i), buffer);
        } catch (ExtendedCopyException e) {
          throw new ExtendedCopyException(
              e.kind(), list.segments().get(i).offset(), e.getMessage());
        }
        segmentsDone++;
        running.progress(segmentsDone, bytesDone);
      }
    } catch (ExtendedCopyException e) {
      failure = toSense(e);
    }
    results.finish(nexus, running, segmentsDone, bytesDone, failure);
    return failure == null ? Sense.good() : Sense.check(failure);
  }

  /**
   * Resolves every target and checks every range and every access right before a single byte moves,
   * so a refused copy changes nothing.
   */
  private List<Planned> plan(
      ExtendedCopyParameters list, ItNexus nexus, ExtendedCopyTargets targets)
      throws ExtendedCopyException {
    List<Resolved> resolved = new ArrayList<>();
    for (Target t : list.targets()) {
      resolved.add(resolve(t, targets));
    }
    List<Planned> plan = new ArrayList<>();
    for (Segment s : list.segments()) {
      if (s.source() >= resolved.size() || s.destination() >= resolved.size()) {
        throw new ExtendedCopyException(
            Kind.TARGET_UNREACHABLE, s.offset() + 4, "no such CSCD index");
      }
      Resolved from = resolved.get(s.source());
      Resolved to = resolved.get(s.destination());
      if (from == null || to == null) {
        throw new ExtendedCopyException(
            Kind.TARGET_UNREACHABLE,
            s.offset() + (from == null ? 4 : 6),
            "copy target not reachable from this I_T nexus");
      }
      checkAccess(nexus, from, to, s);
      Volume src = from.volume();
      Volume dst = to.volume();
      long bytes = (long) s.blocks() * (s.destinationCount() ? dst.blockSize() : src.blockSize());
      if (bytes % src.blockSize() != 0 || bytes % dst.blockSize() != 0) {
        throw new ExtendedCopyException(
            Kind.INVALID_PARAMETER_FIELD,
            s.offset() + 10,
            "segment is not whole blocks on both sides");
      }
      if (bytes > LIMITS.maxSegmentBytes()) {
        throw new ExtendedCopyException(
            Kind.INVALID_PARAMETER_FIELD,
            s.offset() + 10,
            "segment exceeds MAXIMUM SEGMENT LENGTH");
      }
      if (!inside(src, s.sourceLba(), bytes)) {
        throw new ExtendedCopyException(Kind.SEGMENT_OUT_OF_RANGE, s.offset() + 12, "source range");
      }
      if (!inside(dst, s.destinationLba(), bytes)) {
        throw new ExtendedCopyException(
            Kind.SEGMENT_OUT_OF_RANGE, s.offset() + 20, "destination range");
      }
      plan.add(
          new Planned(
              src,
              s.sourceLba() * src.blockSize(),
              dst,
              s.destinationLba() * dst.blockSize(),
              bytes,
              !to.unit().writeCacheEnabled()));
    }
    return plan;
  }

  /**
   * The LU an identification descriptor names, or null when the issuing nexus reaches no LU with
   * that NAA (unmapped LUs are as unreachable as ones that do not exist).
   */
  private static Resolved resolve(Target t, ExtendedCopyTargets targets)
      throws ExtendedCopyException {
    if (t.designatorType() != 3) {
      return null; // only NAA designators identify Duet LUs
    }
    Optional<LunMap.Binding> binding = targets.byNaa(t.designator());
    if (binding.isEmpty()) {
      return null;
    }
    LogicalUnit unit = binding.get().unit();
    Volume v = unit.volume();
    if (t.blockLength() != 0 && t.blockLength() != v.blockSize()) {
      throw new ExtendedCopyException(
          Kind.INVALID_PARAMETER_FIELD, t.offset() + 29, "DISK BLOCK LENGTH differs from the LU's");
    }
    return new Resolved(unit, v, binding.get().readOnly());
  }

  /**
   * The rights the nexus would need to do the segment's reads and writes itself: a read-only
   * mapping refuses the write, a reservation held elsewhere refuses what it would refuse the host.
   */
  private static void checkAccess(ItNexus nexus, Resolved from, Resolved to, Segment s)
      throws ExtendedCopyException {
    if (to.readOnly()) {
      throw new ExtendedCopyException(
          Kind.WRITE_PROTECTED, s.offset() + 6, "destination is mapped read-only");
    }
    if (from.unit().reservationConflict(nexus, READS)) {
      throw new ExtendedCopyException(
          Kind.TARGET_RESERVED, s.offset() + 4, "a reservation blocks reading the source");
    }
    if (to.unit().reservationConflict(nexus, WRITES)) {
      throw new ExtendedCopyException(
          Kind.TARGET_RESERVED, s.offset() + 6, "a reservation blocks writing the destination");
    }
  }

  private static boolean inside(Volume v, long lba, long bytes) {
    long blocks = bytes / v.blockSize();
    return lba >= 0 && lba <= v.blockCount() && blocks <= v.blockCount() - lba;
  }

  /**
   * Copies one segment in chunks. When source and destination overlap on the same volume with the
   * destination later, it copies backwards so no chunk reads data this copy already wrote.
   */
  private static long copy(Planned p, ByteBuffer buffer) throws ExtendedCopyException {
    boolean backwards =
        p.source() == p.destination()
            && p.destinationOffset() > p.sourceOffset()
            && p.destinationOffset() < p.sourceOffset() + p.bytes();
    long done = 0;
    while (done < p.bytes()) {
      int n = (int) Math.min(buffer.capacity(), p.bytes() - done);
      long at = backwards ? p.bytes() - done - n : done;
      buffer.clear().limit(n);
      try {
        p.source().read(p.sourceOffset() + at, buffer);
      } catch (IOException | RuntimeException e) {
        throw copyFailed(e, Kind.READ_FAILED, "source read failed: ");
      }
      buffer.flip();
      try {
        p.destination().write(p.destinationOffset() + at, buffer, p.writeThrough());
      } catch (IOException | RuntimeException e) {
        throw copyFailed(e, Kind.WRITE_FAILED, "destination write failed: ");
      }
      done += n;
    }
    return done;
  }

  /**
   * A copy target not served at this site (replicated, stale here) is unreachable for the copy
   * manager rather than failing media: 0A/0D/02 tells the host to retry the copy elsewhere.
   */
  private static ExtendedCopyException copyFailed(Exception e, Kind kind, String what) {
    Kind k = e instanceof VolumeUnavailableException ? Kind.TARGET_UNREACHABLE : kind;
    return new ExtendedCopyException(k, -1, what + e);
  }

  ScsiResult receiveCopyResults(ItNexus nexus, byte[] cdb, int allocationLimit) {
    if (cdb.length < 16) {
      return Sense.invalidCdbField(0);
    }
    int listId = cdb[2] & 0xff;
    byte[] data =
        switch (cdb[1] & 0x1f) {
          case 0x00 -> results.copyStatus(nexus, listId);
          case 0x03 -> operatingParameters();
          case 0x04 -> results.failedSegmentDetails(nexus, listId);
          default -> new byte[0]; // RECEIVE DATA and the rest: not supported
        };
    if (data == null) {
      return Sense.invalidCdbField(2); // no copy with that list id on this nexus
    }
    if (data.length == 0) {
      return Sense.invalidCdbField(1);
    }
    long allocation = ByteBuffer.wrap(cdb, 10, 4).getInt() & 0xffffffffL;
    int length = (int) Math.min(data.length, Math.min(allocation, Math.max(0, allocationLimit)));
    return Sense.good(ByteBuffer.wrap(java.util.Arrays.copyOf(data, length)));
  }

  /** I_T nexus loss: its held results go (SPC-4). */
  void nexusLost(ItNexus nexus) {
    results.forget(nexus);
  }

  /** Logical unit reset: every held result goes. */
  void reset() {
    results.clear();
  }

  /** OPERATING PARAMETERS (SPC-4 6.18.4), listing the descriptor types we implement. */
  private byte[] operatingParameters() {
    byte[] codes = {
      (byte) ExtendedCopyParameters.TYPE_BLOCK_TO_BLOCK,
      (byte) ExtendedCopyParameters.TYPE_IDENTIFICATION
    };
    ByteBuffer b = ByteBuffer.allocate(44 + codes.length);
    b.putInt(40 + codes.length);
    b.put(4, (byte) 0x01); // SNLID: LIST ID USAGE 11b is supported
    b.putShort(8, (short) LIMITS.maxTargets());
    b.putShort(10, (short) LIMITS.maxSegments());
    b.putInt(12, LIMITS.maxDescriptorListBytes());
    b.putInt(16, (int) LIMITS.maxSegmentBytes());
    b.putInt(20, 0); // MAXIMUM INLINE DATA LENGTH: no inline data
    b.putInt(24, 0); // HELD DATA LIMIT: no held data (RECEIVE DATA unsupported)
    b.putShort(34, (short) TOTAL_CONCURRENT_COPIES);
    b.put(36, (byte) TOTAL_CONCURRENT_COPIES);
    b.put(37, (byte) granularity());
    b.put(43, (byte) codes.length);
    b.put(44, codes);
    return b.array();
  }

  /** log2 of the block size: segments move whole blocks. */
  private int granularity() {
    return Integer.numberOfTrailingZeros(self.volume().blockSize());
  }

  /** The Third-party Copy VPD page (0x8F) for LID1 copy managers (SPC-4 7.8.17). */
  byte[] thirdPartyCopyVpdPage() {
    ByteBuffer body = ByteBuffer.allocate(256);
    // Supported Commands: EXTENDED COPY(LID1); RECEIVE COPY RESULTS 00h, 03h, 04h.
    byte[] commands = {(byte) 0x83, 1, 0x00, (byte) 0x84, 3, 0x00, 0x03, 0x04};
    descriptor(body, 0x0001, concat(new byte[] {(byte) commands.length}, commands));
    // Parameter Data: the limits OPERATING PARAMETERS also reports.
    ByteBuffer params = ByteBuffer.allocate(28);
    params.putShort(4, (short) LIMITS.maxTargets());
    params.putShort(6, (short) LIMITS.maxSegments());
    params.putInt(8, LIMITS.maxDescriptorListBytes());
    params.putInt(12, 0);
    descriptor(body, 0x0008, params.array());
    // Supported Descriptors: segment 02h and CSCD E4h.
    descriptor(
        body,
        0x0009,
        new byte[] {
          2,
          ExtendedCopyParameters.TYPE_BLOCK_TO_BLOCK,
          (byte) ExtendedCopyParameters.TYPE_IDENTIFICATION
        });
    // Supported CSCD Descriptor IDs: none beyond plain indexes.
    descriptor(body, 0x000a, new byte[] {0, 0});
    // General Copy Operations.
    ByteBuffer general = ByteBuffer.allocate(32);
    general.putInt(0, TOTAL_CONCURRENT_COPIES);
    general.putInt(4, TOTAL_CONCURRENT_COPIES);
    general.putInt(8, (int) LIMITS.maxSegmentBytes());
    general.put(12, (byte) granularity());
    descriptor(body, 0x8001, general.array());
    body.flip();
    ByteBuffer page = ByteBuffer.allocate(4 + body.remaining());
    page.put(1, (byte) 0x8f).putShort(2, (short) body.remaining()).position(4);
    page.put(body);
    return page.array();
  }

  /** Appends a third-party copy descriptor: type, length, content padded to a multiple of 4. */
  private static void descriptor(ByteBuffer out, int type, byte[] content) {
    int padded = (content.length + 3) & ~3;
    out.putShort((short) type).putShort((short) padded).put(content);
    out.position(out.position() + padded - content.length);
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  /** Sense for a typed copy failure: ILLEGAL REQUEST before copying, COPY ABORTED after. */
  static byte[] toSense(ExtendedCopyException e) {
    int at = Math.max(0, e.byteOffset());
    return switch (e.kind()) {
      case INVALID_CDB_FIELD -> Sense.illegalField(0x24, 0x00, true, at, -1);
      case INVALID_PARAMETER_FIELD -> Sense.illegalField(0x26, 0x00, false, at, -1);
      case PARAMETER_LIST_LENGTH -> Sense.fixed(Sense.ILLEGAL_REQUEST, 0x1a, 0x00);
      case DATA_OUT_SHORT -> Sense.fixed(Sense.ILLEGAL_REQUEST, 0x0e, 0x03);
      case TOO_MANY_TARGETS -> Sense.illegalField(0x26, 0x06, false, at, -1);
      case UNSUPPORTED_TARGET_TYPE -> Sense.illegalField(0x26, 0x07, false, at, -1);
      case TOO_MANY_SEGMENTS -> Sense.illegalField(0x26, 0x08, false, at, -1);
      case UNSUPPORTED_SEGMENT_TYPE -> Sense.illegalField(0x26, 0x09, false, at, -1);
      case INLINE_DATA_TOO_LONG -> Sense.illegalField(0x26, 0x0b, false, at, -1);
      case LIST_ID_IN_USE -> Sense.fixed(Sense.ILLEGAL_REQUEST, 0x00, 0x16);
      case WRITE_PROTECTED -> Sense.fixed(Sense.DATA_PROTECT, 0x27, 0x00);
      case TARGET_UNREACHABLE -> copyAborted(0x0d, 0x02, at);
      case TARGET_RESERVED -> copyAborted(0x0d, 0x01, at);
      case SEGMENT_OUT_OF_RANGE -> copyAborted(0x00, 0x00, at);
      case READ_FAILED -> copyAborted(0x11, 0x00, at);
      case WRITE_FAILED -> copyAborted(0x0c, 0x00, at);
    };
  }

  /**
   * COPY ABORTED with a segment pointer (SPC-4 4.5.2.4.5): SKSV set, SD clear, so the field pointer
   * is a byte offset in the parameter list.
   */
  private static byte[] copyAborted(int asc, int ascq, int parameterByte) {
    byte[] s = Sense.fixed(COPY_ABORTED, asc, ascq);
    s[15] = (byte) 0x80;
    s[16] = (byte) (parameterByte >>> 8);
    s[17] = (byte) parameterByte;
    return s;
  }
}
