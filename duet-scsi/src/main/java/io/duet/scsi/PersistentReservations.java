package io.duet.scsi;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
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

  private static final System.Logger LOG = System.getLogger(PersistentReservations.class.getName());

  private final PersistentState persistence;

  /** Where PERSISTENT RESERVE OUT goes to be ordered with the other site's; null: local. */
  private volatile SharedUnitState shared;

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

  /**
   * PERSISTENT RESERVE OUT: checked here, then applied through the unit's shared state (at both
   * sites, in their common order) or, without one, applied here at once.
   */
  ScsiResult persistentReserveOut(ItNexus nexus, byte[] cdb, ByteBuffer parameters) {
    remember(nexus);
    ReservationRequest request;
    try {
      // Pure syntax checks fail here, before any round trip to the other site.
      request = ReservationRequestParser.parse(cdb, parameters);
    } catch (ReservationException e) {
      return toResult(e);
    }
    byte[] list = new byte[(int) BigEndian.u32(cdb, 5)];
    parameters.duplicate().get(list);
    // The destination of REGISTER AND MOVE is resolved where the host named it: the other site
    // may never have seen that port.
    TargetPort moveTo =
        request.action() == ReservationRequest.Action.REGISTER_AND_MOVE
            ? ports.get(request.relativeTargetPortId())
            : null;
    return submit(new SharedCommand.ReserveOut(nexus, cdb.clone(), list, moveTo));
  }

  /** Applies {@code command} through the shared state, or here at once when there is none. */
  private ScsiResult submit(SharedCommand command) {
    SharedUnitState via = shared;
    if (via == null) {
      return apply(command, true);
    }
    return SharedCommand.await(via.submit(SharedCommand.encode(command)));
  }

  /**
   * Applies a reservation command (PERSISTENT RESERVE OUT, SPC-2 RESERVE/RELEASE, nexus loss) here;
   * see {@link #apply(SharedCommand.ReserveOut, boolean)}.
   */
  ScsiResult apply(SharedCommand command, boolean durableFirst) {
    return switch (command) {
      case SharedCommand.ReserveOut out -> apply(out, durableFirst);
      case SharedCommand.LegacyReserve r -> applyLegacyReserve(r.issuer());
      case SharedCommand.LegacyRelease r -> applyLegacyRelease(r.issuer());
      case SharedCommand.NexusLost lost -> applyNexusLost(lost.issuer());
      case SharedCommand.Reset _, SharedCommand.ModeSelect _ ->
          throw new IllegalArgumentException("not a reservation command");
    };
  }

  /** Sends later PERSISTENT RESERVE OUTs through {@code via}, or applies them here (null). */
  void useShared(SharedUnitState via) {
    shared = via;
  }

  /**
   * Applies one PERSISTENT RESERVE OUT to the state. Deterministic: the same state and command give
   * the same next state and result at either site. Unit attentions go to the nexuses of this site
   * that the change concerns.
   *
   * @param durableFirst true when this site alone holds the state: an APTPL change that cannot be
   *     saved is refused (04/44/00). Replicated (false), the change stands whatever this site's
   *     disk does, as the other site has made it; the failure is logged and the next change saves
   *     again.
   */
  ScsiResult apply(SharedCommand.ReserveOut command, boolean durableFirst) {
    ItNexus nexus = command.issuer();
    ports.putIfAbsent(nexus.targetPort().relativeId(), nexus.targetPort());
    synchronized (lock) {
      ReservationState before = state;
      ReservationOutcome outcome;
      try {
        ReservationRequest request =
            ReservationRequestParser.parse(command.cdb(), ByteBuffer.wrap(command.parameters()));
        outcome = ReservationLogic.apply(before, nexus, request, id -> portFor(command, id));
      } catch (ReservationException e) {
        return toResult(e);
      }
      ReservationState after = outcome.state();
      if (after == before) {
        return Sense.good();
      }
      if (!save(before, after) && durableFirst) {
        return Sense.internalFailure();
      }
      state = after;
      for (ReservationNotice notice : outcome.notices()) {
        raise(notice, nexus);
      }
      return Sense.good();
    }
  }

  /** REGISTER AND MOVE's port lookup, from what the command carries only (deterministic). */
  private static TargetPort portFor(SharedCommand.ReserveOut command, int relativeId) {
    if (command.moveTo() != null && command.moveTo().relativeId() == relativeId) {
      return command.moveTo();
    }
    TargetPort own = command.issuer().targetPort();
    return own.relativeId() == relativeId ? own : null;
  }

  /** Saves APTPL state when {@code before} or {@code after} has APTPL; false when that failed. */
  private boolean save(ReservationState before, ReservationState after) {
    if (!after.aptpl() && !before.aptpl()) {
      return true;
    }
    ReservationState durable = after.aptpl() ? after : ReservationState.EMPTY;
    try {
      persistence.save(ReservationCodec.encode(durable));
      return true;
    } catch (IOException e) {
      LOG.log(Level.ERROR, "cannot save persistent reservation state (APTPL)", e);
      return false;
    }
  }

  /**
   * The whole reservation state with the unit's {@code writeCache}, for the other site to install
   * on resync ({@link UnitSnapshot}).
   */
  UnitSnapshot sharedSnapshot(boolean writeCache) {
    synchronized (lock) {
      return new UnitSnapshot(writeCache, legacyHolder, state);
    }
  }

  /** Replaces the reservation state with that of a snapshot of the other site's. */
  void installShared(UnitSnapshot snapshot) {
    synchronized (lock) {
      save(state, snapshot.reservations());
      state = snapshot.reservations();
      legacyHolder = snapshot.legacyHolder();
    }
  }

  /** SPC-2 RESERVE(6)/(10): whole-LU reservation for this I_T nexus, at both sites. */
  ScsiResult reserve(ItNexus nexus, byte[] cdb) {
    remember(nexus);
    ScsiResult bad = checkLegacyCdb(cdb);
    return bad != null ? bad : submit(new SharedCommand.LegacyReserve(nexus));
  }

  private ScsiResult applyLegacyReserve(ItNexus nexus) {
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
    return bad != null ? bad : submit(new SharedCommand.LegacyRelease(nexus));
  }

  private ScsiResult applyLegacyRelease(ItNexus nexus) {
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
   * is released, at both sites; persistent registrations survive, as SPC-4 requires. Does not wait
   * for the other site: the nexus has no one left to answer.
   */
  void nexusLost(ItNexus nexus) {
    nexuses.remove(UnitAttentions.key(nexus));
    if (!UnitAttentions.key(nexus).equals(legacyHolder)) {
      return; // the common case: nothing shared changes, nothing to send
    }
    SharedUnitState via = shared;
    if (via == null) {
      applyNexusLost(nexus);
      return;
    }
    via.submit(SharedCommand.encode(new SharedCommand.NexusLost(nexus)))
        .whenComplete(
            (result, failure) -> {
              if (failure != null) {
                applyNexusLost(nexus); // not ordered with the other site: at least not here
              }
            });
  }

  private ScsiResult applyNexusLost(ItNexus nexus) {
    synchronized (lock) {
      if (UnitAttentions.key(nexus).equals(legacyHolder)) {
        legacyHolder = null;
      }
    }
    return Sense.good();
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
