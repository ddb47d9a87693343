package io.duet.scsi;

import io.duet.scsi.ReservationRequest.Action;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Decodes a PERSISTENT RESERVE OUT CDB and its parameter list (SPC-4 6.16.3/6.16.4) into a {@link
 * ReservationRequest}, rejecting bad lengths and fields with a typed {@link ReservationException}.
 * Never throws anything else, whatever the bytes.
 */
final class ReservationRequestParser {
  static final int CDB_LENGTH = 10;

  /** The basic parameter list; SPEC_I_PT and REGISTER AND MOVE append TransportIDs. */
  static final int BASIC_LENGTH = 24;

  /** More TransportIDs than this in one SPEC_I_PT list could never all fit the table anyway. */
  static final int MAX_TRANSPORT_IDS = ReservationLogic.MAX_REGISTRATIONS;

  private ReservationRequestParser() {}

  static ReservationRequest parse(byte[] cdb, ByteBuffer parameters) throws ReservationException {
    if (cdb.length < CDB_LENGTH) {
      throw ReservationException.invalidCdb(0, "PERSISTENT RESERVE OUT CDB is too short");
    }
    Action action = Action.fromCode(cdb[1] & 0x1f);
    if (action == null) {
      throw ReservationException.invalidCdb(1, "unknown service action " + (cdb[1] & 0x1f));
    }
    int scope = (cdb[2] >>> 4) & 0x0f;
    int type = cdb[2] & 0x0f;
    long listLength = ByteBuffer.wrap(cdb, 5, 4).getInt() & 0xffffffffL;
    if (listLength > parameters.remaining()) {
      throw ReservationException.parameterListLength("Data-Out shorter than the parameter list");
    }
    if (listLength < BASIC_LENGTH) {
      throw ReservationException.parameterListLength("parameter list shorter than 24 bytes");
    }
    byte[] p = new byte[(int) listLength];
    parameters.duplicate().get(p);
    ByteBuffer b = ByteBuffer.wrap(p);
    long key = b.getLong(0);
    long sark = b.getLong(8);
    if (action == Action.REGISTER_AND_MOVE) {
      return registerAndMove(scope, type, key, sark, p);
    }
    boolean specIPt = (p[20] & 0x08) != 0;
    boolean allTgPt = (p[20] & 0x04) != 0;
    boolean aptpl = (p[20] & 0x01) != 0;
    boolean registering =
        action == Action.REGISTER || action == Action.REGISTER_AND_IGNORE_EXISTING_KEY;
    if (!specIPt) {
      if (p.length != BASIC_LENGTH) {
        throw ReservationException.parameterListLength("parameter list must be 24 bytes");
      }
      return new ReservationRequest(
          action,
          scope,
          type,
          key,
          sark,
          false,
          registering && allTgPt,
          registering && aptpl,
          List.of(),
          false,
          0);
    }
    if (action != Action.REGISTER) {
      throw ReservationException.invalidParameter(20, 3, "SPEC_I_PT is only valid with REGISTER");
    }
    if (p.length < BASIC_LENGTH + 4) {
      throw ReservationException.parameterListLength("SPEC_I_PT list lacks its length field");
    }
    long idsLength = b.getInt(24) & 0xffffffffL;
    if (BASIC_LENGTH + 4 + idsLength != p.length) {
      throw ReservationException.parameterListLength("TRANSPORTID PARAMETER DATA LENGTH mismatch");
    }
    List<TransportId> ids = new ArrayList<>();
    int at = BASIC_LENGTH + 4;
    while (at < p.length) {
      if (ids.size() == MAX_TRANSPORT_IDS) {
        throw ReservationException.insufficientResources("too many TransportIDs");
      }
      TransportId.Parsed parsed = TransportId.parse(p, at, p.length, 0);
      ids.add(parsed.id());
      at += parsed.length();
    }
    return new ReservationRequest(
        action, scope, type, key, sark, true, allTgPt, aptpl, ids, false, 0);
  }

  private static ReservationRequest registerAndMove(
      int scope, int type, long key, long sark, byte[] p) throws ReservationException {
    ByteBuffer b = ByteBuffer.wrap(p);
    boolean unreg = (p[17] & 0x02) != 0;
    boolean aptpl = (p[17] & 0x01) != 0;
    int relativePort = b.getShort(18) & 0xffff;
    long idsLength = b.getInt(20) & 0xffffffffL;
    if (BASIC_LENGTH + idsLength != p.length || idsLength < 4) {
      throw ReservationException.parameterListLength("TRANSPORTID PARAMETER DATA LENGTH mismatch");
    }
    TransportId.Parsed parsed = TransportId.parse(p, BASIC_LENGTH, p.length, 0);
    if (BASIC_LENGTH + parsed.length() != p.length) {
      throw ReservationException.parameterListLength("REGISTER AND MOVE takes one TransportID");
    }
    return new ReservationRequest(
        Action.REGISTER_AND_MOVE,
        scope,
        type,
        key,
        sark,
        false,
        false,
        aptpl,
        List.of(parsed.id()),
        unreg,
        relativePort);
  }
}
