package io.duet.scsi;

/**
 * The six persistent reservation types of SPC-4 (table "Persistent reservation type codes"), with
 * the access each one grants to I_T nexuses that do not hold the reservation.
 */
enum ReservationType {
  WRITE_EXCLUSIVE(0x1),
  EXCLUSIVE_ACCESS(0x3),
  WRITE_EXCLUSIVE_REGISTRANTS_ONLY(0x5),
  EXCLUSIVE_ACCESS_REGISTRANTS_ONLY(0x6),
  WRITE_EXCLUSIVE_ALL_REGISTRANTS(0x7),
  EXCLUSIVE_ACCESS_ALL_REGISTRANTS(0x8);

  private final int code;

  ReservationType(int code) {
    this.code = code;
  }

  /** The 4-bit TYPE code of the CDB and of READ RESERVATION. */
  int code() {
    return code;
  }

  /** The type for a TYPE code, or null when the code is reserved/obsolete. */
  static ReservationType fromCode(int code) {
    for (ReservationType t : values()) {
      if (t.code == code) {
        return t;
      }
    }
    return null;
  }

  /** Every registrant is a reservation holder (the reservation key reads back as zero). */
  boolean allRegistrants() {
    return this == WRITE_EXCLUSIVE_ALL_REGISTRANTS || this == EXCLUSIVE_ACCESS_ALL_REGISTRANTS;
  }

  /** Registered non-holders may read and write as if they held it. */
  boolean registrantsHaveAccess() {
    return this != WRITE_EXCLUSIVE && this != EXCLUSIVE_ACCESS;
  }

  /** Non-holders without access may not even read. */
  boolean exclusiveAccess() {
    return this == EXCLUSIVE_ACCESS
        || this == EXCLUSIVE_ACCESS_REGISTRANTS_ONLY
        || this == EXCLUSIVE_ACCESS_ALL_REGISTRANTS;
  }

  /**
   * Releasing or losing a reservation of this type tells the other registrants with UA 2A/04
   * (SPC-4: only the registrants-only and all-registrants types do).
   */
  boolean notifiesOnRelease() {
    return registrantsHaveAccess();
  }

  /** The bit of this type in REPORT CAPABILITIES' PERSISTENT RESERVATION TYPE MASK (16 bits). */
  int typeMaskBit() {
    return switch (this) {
      case WRITE_EXCLUSIVE_ALL_REGISTRANTS -> 0x8000;
      case EXCLUSIVE_ACCESS_REGISTRANTS_ONLY -> 0x4000;
      case WRITE_EXCLUSIVE_REGISTRANTS_ONLY -> 0x2000;
      case EXCLUSIVE_ACCESS -> 0x0800;
      case WRITE_EXCLUSIVE -> 0x0200;
      case EXCLUSIVE_ACCESS_ALL_REGISTRANTS -> 0x0001;
    };
  }
}
