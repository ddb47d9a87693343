package io.duet.scsi;

/**
 * An EXTENDED COPY that cannot be carried out, typed for the core; {@link ExtendedCopy} maps it to
 * sense data (ILLEGAL REQUEST for bad parameters, COPY ABORTED once copying has begun).
 */
final class ExtendedCopyException extends Exception {
  private static final long serialVersionUID = 1L;

  /** The failure, with the sense it maps to in SPC-4 terms. */
  enum Kind {
    /** 05/24/00. */
    INVALID_CDB_FIELD,
    /** 05/26/00. */
    INVALID_PARAMETER_FIELD,
    /** 05/1A/00. */
    PARAMETER_LIST_LENGTH,
    /** 05/0E/03: the transport delivered less Data-Out than PARAMETER LIST LENGTH announces. */
    DATA_OUT_SHORT,
    /** 05/26/06 TOO MANY TARGET DESCRIPTORS. */
    TOO_MANY_TARGETS,
    /** 05/26/07 UNSUPPORTED TARGET DESCRIPTOR TYPE CODE. */
    UNSUPPORTED_TARGET_TYPE,
    /** 05/26/08 TOO MANY SEGMENT DESCRIPTORS. */
    TOO_MANY_SEGMENTS,
    /** 05/26/09 UNSUPPORTED SEGMENT DESCRIPTOR TYPE CODE. */
    UNSUPPORTED_SEGMENT_TYPE,
    /** 05/26/0B INLINE DATA LENGTH EXCEEDED. */
    INLINE_DATA_TOO_LONG,
    /** 05/00/16 OPERATION IN PROGRESS: the list identifier is in use on this I_T nexus. */
    LIST_ID_IN_USE,
    /**
     * 07/27/00 WRITE PROTECTED: the destination is mapped read-only to the issuing nexus. Found
     * before any segment runs, so the sense key names the condition rather than COPY ABORTED.
     */
    WRITE_PROTECTED,
    /**
     * 0A/0D/02 COPY TARGET DEVICE NOT REACHABLE: no such LU, or the issuing nexus cannot address
     * it.
     */
    TARGET_UNREACHABLE,
    /**
     * 0A/0D/01 THIRD PARTY DEVICE FAILURE: the copy target would answer RESERVATION CONFLICT to the
     * issuing nexus for the read or write the segment needs.
     */
    TARGET_RESERVED,
    /** 0A/00/00 with a segment pointer: the segment lies outside a copy target. */
    SEGMENT_OUT_OF_RANGE,
    /** 0A/11/00: reading the source failed. */
    READ_FAILED,
    /** 0A/0C/00: writing the destination failed. */
    WRITE_FAILED
  }

  private final Kind kind;
  private final int byteOffset;

  ExtendedCopyException(Kind kind, int byteOffset, String message) {
    super(message, null, false, false);
    this.kind = kind;
    this.byteOffset = byteOffset;
  }

  Kind kind() {
    return kind;
  }

  /** Offending byte in the CDB or parameter list (or the failing segment descriptor), or -1. */
  int byteOffset() {
    return byteOffset;
  }
}
