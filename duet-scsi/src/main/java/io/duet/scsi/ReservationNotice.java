package io.duet.scsi;

/**
 * A unit attention a reservation change owes to the I_T nexuses of one registration (as it was
 * before the change): 2A/03 RESERVATIONS PREEMPTED, 2A/04 RESERVATIONS RELEASED or 2A/05
 * REGISTRATIONS PREEMPTED.
 */
record ReservationNotice(Registration to, int asc, int ascq) {
  static final int ASC = 0x2a;
  static final int RESERVATIONS_PREEMPTED = 0x03;
  static final int RESERVATIONS_RELEASED = 0x04;
  static final int REGISTRATIONS_PREEMPTED = 0x05;

  static ReservationNotice preempted(Registration r) {
    return new ReservationNotice(r, ASC, RESERVATIONS_PREEMPTED);
  }

  static ReservationNotice released(Registration r) {
    return new ReservationNotice(r, ASC, RESERVATIONS_RELEASED);
  }

  static ReservationNotice registrationPreempted(Registration r) {
    return new ReservationNotice(r, ASC, REGISTRATIONS_PREEMPTED);
  }
}
