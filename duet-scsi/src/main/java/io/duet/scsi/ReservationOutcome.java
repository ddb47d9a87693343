package io.duet.scsi;

import java.util.List;
import java.util.Objects;

/**
 * What a successful PERSISTENT RESERVE OUT did: the next state (possibly the same object, when
 * nothing changed) and the unit attentions to raise once that state is committed.
 */
record ReservationOutcome(ReservationState state, List<ReservationNotice> notices) {
  ReservationOutcome {
    Objects.requireNonNull(state, "state");
    notices = List.copyOf(notices);
  }

  static ReservationOutcome unchanged(ReservationState state) {
    return new ReservationOutcome(state, List.of());
  }
}
