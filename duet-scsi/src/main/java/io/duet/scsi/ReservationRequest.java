package io.duet.scsi;

import java.util.List;
import java.util.Objects;

/**
 * A decoded PERSISTENT RESERVE OUT command: CDB fields plus the parameter list, already checked for
 * length and syntax by {@link ReservationRequestParser}.
 *
 * @param action the service action
 * @param scope the SCOPE field (only 0h, LU_SCOPE, is defined)
 * @param typeCode the raw TYPE field
 * @param key RESERVATION KEY
 * @param serviceActionKey SERVICE ACTION RESERVATION KEY
 * @param specIPt SPEC_I_PT
 * @param allTgPt ALL_TG_PT
 * @param aptpl APTPL
 * @param transportIds TransportIDs of SPEC_I_PT, or the one of REGISTER AND MOVE
 * @param unregister REGISTER AND MOVE's UNREG bit
 * @param relativeTargetPortId REGISTER AND MOVE's RELATIVE TARGET PORT IDENTIFIER
 */
record ReservationRequest(
    Action action,
    int scope,
    int typeCode,
    long key,
    long serviceActionKey,
    boolean specIPt,
    boolean allTgPt,
    boolean aptpl,
    List<TransportId> transportIds,
    boolean unregister,
    int relativeTargetPortId) {

  /**
   * PERSISTENT RESERVE OUT service actions (SPC-4 table "PERSISTENT RESERVE OUT service action
   * codes").
   */
  enum Action {
    REGISTER,
    RESERVE,
    RELEASE,
    CLEAR,
    PREEMPT,
    PREEMPT_AND_ABORT,
    REGISTER_AND_IGNORE_EXISTING_KEY,
    REGISTER_AND_MOVE;

    /** The action for a SERVICE ACTION code, or null. */
    static Action fromCode(int code) {
      return code >= 0 && code < values().length ? values()[code] : null;
    }
  }

  ReservationRequest {
    Objects.requireNonNull(action, "action");
    transportIds = List.copyOf(transportIds);
  }

  /** A request without TransportIDs: every service action but SPEC_I_PT and REGISTER AND MOVE. */
  static ReservationRequest basic(Action action, int typeCode, long key, long sark) {
    return new ReservationRequest(
        action, 0, typeCode, key, sark, false, false, false, List.of(), false, 0);
  }
}
