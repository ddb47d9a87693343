package io.duet.scsi;

/**
 * A persistent reservation command that cannot be carried out, typed so the core logic stays free
 * of sense bytes; {@link PersistentReservations} maps it to a status and sense at the edge.
 */
final class ReservationException extends Exception {
  private static final long serialVersionUID = 1L;

  /** What went wrong, in the terms the SCSI edge needs to pick status and sense. */
  enum Kind {
    /** RESERVATION CONFLICT status, no sense. */
    CONFLICT,
    /** 05/24/00 INVALID FIELD IN CDB. */
    INVALID_CDB_FIELD,
    /** 05/26/00 INVALID FIELD IN PARAMETER LIST. */
    INVALID_PARAMETER_FIELD,
    /** 05/1A/00 PARAMETER LIST LENGTH ERROR. */
    PARAMETER_LIST_LENGTH,
    /** 05/26/04 INVALID RELEASE OF PERSISTENT RESERVATION. */
    INVALID_RELEASE,
    /** 05/55/04 INSUFFICIENT REGISTRATION RESOURCES. */
    INSUFFICIENT_RESOURCES
  }

  private final Kind kind;
  private final int byteOffset;
  private final int bit;

  private ReservationException(Kind kind, int byteOffset, int bit, String message) {
    super(message, null, false, false);
    this.kind = kind;
    this.byteOffset = byteOffset;
    this.bit = bit;
  }

  static ReservationException conflict(String why) {
    return new ReservationException(Kind.CONFLICT, -1, -1, why);
  }

  static ReservationException invalidCdb(int byteOffset, String why) {
    return new ReservationException(Kind.INVALID_CDB_FIELD, byteOffset, -1, why);
  }

  static ReservationException invalidParameter(int byteOffset, int bit, String why) {
    return new ReservationException(Kind.INVALID_PARAMETER_FIELD, byteOffset, bit, why);
  }

  static ReservationException parameterListLength(String why) {
    return new ReservationException(Kind.PARAMETER_LIST_LENGTH, -1, -1, why);
  }

  static ReservationException invalidRelease(String why) {
    return new ReservationException(Kind.INVALID_RELEASE, -1, -1, why);
  }

  static ReservationException insufficientResources(String why) {
    return new ReservationException(Kind.INSUFFICIENT_RESOURCES, -1, -1, why);
  }

  Kind kind() {
    return kind;
  }

  /** Offending byte (CDB or parameter list) for the field pointer, or -1. */
  int byteOffset() {
    return byteOffset;
  }

  /** Offending bit within {@link #byteOffset()}, or -1. */
  int bit() {
    return bit;
  }
}
