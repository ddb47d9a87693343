package io.duet.scsi;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A logical unit's reservations at the SCSI edge: PERSISTENT RESERVE IN/OUT (SPC-4 5.13, 6.15,
 * 6.16), SPC-2 RESERVE/RELEASE, and the conflict check the dispatcher runs before every command.
 * The rules live in {@link ReservationLogic} over immutable {@link ReservationState} snapshots;
 * this class decodes CDBs, serialises changes, persists APTPL state before GOOD status, raises the
 * unit attentions and maps typed errors to sense data. Thread-safe.
 */
final class PersistentReservations {
  /** I_T nexuses remembered for unit attentions; beyond this, new ones are not tracked. */
  static final int MAX_TRACKED_NEXUSES = 4096;

  private final PersistentState persistence;
  private final UnitAttentions unitAttentions;

  /** Guards changes; readers on the hot path use the volatile snapshots directly. */
  private final Object lock = new Object();

  private volatile ReservationState state;

  /** The SPC-2 reservation holder as {@link UnitAttentions#key}, or null. */
  private volatile String legacyHolder;

  /** Nexuses seen on this LU, so notices about a registration reach its nexuses. */
  private final Map<String, ItNexus> nexuses = new ConcurrentHashMap<>();

  /** Target ports seen, by relative id: REGISTER AND MOVE names its destination port this way. */
  private final Map<Integer, TargetPort> ports = new ConcurrentHashMap<>();

  /** Loads APTPL state, if any was saved; corrupt state fails loudly rather than vanish. */
  PersistentReservations(PersistentState persistence, UnitAttentions unitAttentions) {
    this.persistence = persistence;
    this.unitAttentions = unitAttentions;
    ReservationState loaded = ReservationState.EMPTY;
    try {
      Optional<byte[]> saved = persistence.load();
      if (saved.isPresent() && saved.get().length > 0) {
        ReservationState decoded = ReservationCodec.decode(saved.get());
        loaded = decoded.aptpl() ? decoded : ReservationState.EMPTY;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot load persistent reservation state", e);
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException("persistent reservation state is corrupt", e);
    }
    this.state = loaded;
  }

  /** The current state snapshot (for replication and tests). */
  ReservationState snapshot() {
    return state;
  }

  ScsiResult persistentReserveIn(ItNexus nexus, byte[] cdb, int allocationLimit) {
    remember(nexus);
    if (cdb.length < 10) {
      return Sense.invalidCdbField(0);
    }
    ReservationState s = state;
    byte[] data =
        switch (cdb[1] & 0x1f) {
          case ReservationReports.READ_KEYS -> ReservationReports.readKeys(s);
          case ReservationReports.READ_RESERVATION -> ReservationReports.readReservation(s);
          case ReservationReports.REPORT_CAPABILITIES -> ReservationReports.reportCapabilities(s);
          case ReservationReports.READ_FULL_STATUS -> ReservationReports.readFullStatus(s);
          default -> null;
        };
    if (data == null) {
      return Sense.invalidCdbField(1);
    }
    int allocation = ((cdb[7] & 0xff) << 8) | (cdb[8] & 0xff);
    int length = Math.min(data.length, Math.min(allocation, Math.max(0, allocationLimit)));
    return Sense.good(ByteBuffer.wrap(Arrays.copyOf(data, length)));
  }

  ScsiResult persistentReserveOut(ItNexus nexus, byte[] cdb, ByteBuffer parameters) {
    remember(nexus);
    synchronized (lock) {
      ReservationState before = state;
      ReservationOutcome outcome;
      try {
        ReservationRequest request = ReservationRequestParser.parse(cdb, parameters);
        outcome = ReservationLogic.apply(before, nexus, request, ports::get);
      } catch (ReservationException e) {
        return toResult(e);
      }
      ReservationState after = outcome.state();
      if (after == before) {
        return Sense.good();
      }
      if (after.aptpl() || before.aptpl()) {
        // Durable before GOOD: an APTPL change that did not reach storage did not happen.
        ReservationState durable = after.aptpl() ? after : ReservationState.EMPTY;
        try {
          persistence.save(ReservationCodec.encode(durable));
        } catch (IOException e) {
          return Sense.check(Sense.HARDWARE_ERROR, 0x44, 0x00);
        }
      }
      state = after;
      for (ReservationNotice notice : outcome.notices()) {
        raise(notice, nexus);
      }
      return Sense.good();
    }
  }

  /** SPC-2 RESERVE(6)/(10): whole-LU reservation for this I_T nexus. */
  ScsiResult reserve(ItNexus nexus, byte[] cdb) {
    remember(nexus);
    ScsiResult bad = checkLegacyCdb(cdb);
    if (bad != null) {
      return bad;
    }
    String me = UnitAttentions.key(nexus);
    synchronized (lock) {
      ReservationState s = state;
      if (s.active()) {
        // SPC-4 compatible handling (CRH=1): only a persistent reservation holder passes.
        return s.isHolder(nexus) ? Sense.good() : Sense.reservationConflict();
      }
      if (legacyHolder != null && !legacyHolder.equals(me)) {
        return Sense.reservationConflict();
      }
      legacyHolder = me;
      return Sense.good();
    }
  }

  /** SPC-2 RELEASE(6)/(10); releasing someone else's reservation is a GOOD no-op. */
  ScsiResult release(ItNexus nexus, byte[] cdb) {
    remember(nexus);
    ScsiResult bad = checkLegacyCdb(cdb);
    if (bad != null) {
      return bad;
    }
    String me = UnitAttentions.key(nexus);
    synchronized (lock) {
      ReservationState s = state;
      if (s.reservation() != null) {
        boolean access =
            s.isHolder(nexus)
                || (s.reservation().type().registrantsHaveAccess()
                    && s.registrationFor(nexus) != null);
        return access ? Sense.good() : Sense.reservationConflict();
      }
      if (me.equals(legacyHolder)) {
        legacyHolder = null;
      }
      return Sense.good();
    }
  }

  /** Whether a reservation blocks this command from this nexus (RESERVATION CONFLICT). */
  boolean conflicts(ItNexus nexus, byte[] cdb) {
    remember(nexus);
    String holder = legacyHolder;
    if (holder != null
        && !holder.equals(UnitAttentions.key(nexus))
        && ReservationConflicts.legacyConflict(cdb)) {
      return true;
    }
    return ReservationConflicts.persistentConflict(state, nexus, cdb);
  }

  /** LOGICAL UNIT RESET (and target resets): SPC-2 reservations go, persistent ones stay. */
  void reset() {
    legacyHolder = null;
  }

  /**
   * The I_T nexus is gone (logout, connection loss, session reinstatement): its SPC-2 reservation
   * is released; persistent registrations survive, as SPC-4 requires.
   */
  void nexusLost(ItNexus nexus) {
    String me = UnitAttentions.key(nexus);
    synchronized (lock) {
      if (me.equals(legacyHolder)) {
        legacyHolder = null;
      }
    }
    nexuses.remove(me);
  }

  private void remember(ItNexus nexus) {
    ports.putIfAbsent(nexus.targetPort().relativeId(), nexus.targetPort());
    String k = UnitAttentions.key(nexus);
    if (!nexuses.containsKey(k) && nexuses.size() < MAX_TRACKED_NEXUSES) {
      nexuses.putIfAbsent(k, nexus);
    }
  }

  private void raise(ReservationNotice notice, ItNexus issuer) {
    for (ItNexus n : nexuses.values()) {
      if (notice.to().matches(n) && !n.equals(issuer)) {
        unitAttentions.raise(n, notice.asc(), notice.ascq());
      }
    }
  }

  private static ScsiResult checkLegacyCdb(byte[] cdb) {
    int op = cdb.length > 0 ? cdb[0] & 0xff : -1;
    int needed = (op == 0x56 || op == 0x57) ? 10 : 6;
    if (cdb.length < needed) {
      return Sense.invalidCdbField(0);
    }
    // Third-party (3RDPTY), LONGID and the obsolete extent reservations are not supported.
    int unsupported = (op == 0x56 || op == 0x57) ? 0x13 : 0x1f;
    if ((cdb[1] & unsupported) != 0) {
      return Sense.invalidCdbField(1);
    }
    return null;
  }

  static ScsiResult toResult(ReservationException e) {
    int at = Math.max(0, e.byteOffset());
    return switch (e.kind()) {
      case CONFLICT -> Sense.reservationConflict();
      case INVALID_CDB_FIELD -> Sense.invalidCdbField(at);
      case INVALID_PARAMETER_FIELD ->
          Sense.check(Sense.illegalField(0x26, 0x00, false, at, e.bit()));
      case PARAMETER_LIST_LENGTH -> Sense.parameterListLength();
      case INVALID_RELEASE -> Sense.check(Sense.ILLEGAL_REQUEST, 0x26, 0x04);
      case INSUFFICIENT_RESOURCES -> Sense.check(Sense.ILLEGAL_REQUEST, 0x55, 0x04);
    };
  }
}
