package io.duet.scsi;

import io.duet.scsi.ReservationState.Held;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/**
 * The persistent reservation rules of SPC-4 5.13 as pure functions: (state, nexus, request) to
 * (next state, unit attentions), or a typed {@link ReservationException}. Nothing here touches I/O,
 * locks or sense bytes, so the same code can run on a replica or in a simulator.
 */
final class ReservationLogic {
  /**
   * Registrations one logical unit keeps; more are refused with INSUFFICIENT REGISTRATION
   * RESOURCES.
   */
  static final int MAX_REGISTRATIONS = 256;

  private ReservationLogic() {}

  /**
   * Applies one PERSISTENT RESERVE OUT.
   *
   * @param ports resolves a relative target port id to the port (REGISTER AND MOVE), or null
   */
  static ReservationOutcome apply(
      ReservationState s, ItNexus nexus, ReservationRequest r, IntFunction<TargetPort> ports)
      throws ReservationException {
    return switch (r.action()) {
      case REGISTER -> register(s, nexus, r, false);
      case REGISTER_AND_IGNORE_EXISTING_KEY -> register(s, nexus, r, true);
      case RESERVE -> reserve(s, nexus, r);
      case RELEASE -> release(s, nexus, r);
      case CLEAR -> clear(s, nexus, r);
      case PREEMPT, PREEMPT_AND_ABORT -> preempt(s, nexus, r);
      case REGISTER_AND_MOVE -> registerAndMove(s, nexus, r, ports);
    };
  }

  private static Registration requireRegistered(ReservationState s, ItNexus n, long key)
      throws ReservationException {
    Registration mine = s.registrationFor(n);
    if (mine == null) {
      throw ReservationException.conflict("I_T nexus is not registered");
    }
    if (mine.key() != key) {
      throw ReservationException.conflict("reservation key does not match the registration");
    }
    return mine;
  }

  /** SCOPE must be LU_SCOPE and TYPE one of the six defined codes (CDB byte 2). */
  private static ReservationType requireScopeAndType(ReservationRequest r)
      throws ReservationException {
    if (r.scope() != 0) {
      throw ReservationException.invalidCdb(2, "only LU_SCOPE is supported");
    }
    ReservationType type = ReservationType.fromCode(r.typeCode());
    if (type == null) {
      throw ReservationException.invalidCdb(
          2, "reservation type " + r.typeCode() + " is not defined");
    }
    return type;
  }

  private static ReservationOutcome register(
      ReservationState s, ItNexus n, ReservationRequest r, boolean ignoreKey)
      throws ReservationException {
    Registration mine = s.registrationFor(n);
    if (mine == null) {
      if (!ignoreKey && r.key() != 0) {
        throw ReservationException.conflict("unregistered I_T nexus gave a non-zero key");
      }
      if (r.serviceActionKey() == 0) {
        return ReservationOutcome.unchanged(s); // registering nothing is a GOOD no-op
      }
      List<Registration> added = newRegistrations(s, n, r);
      if (s.registrations().size() + added.size() > MAX_REGISTRATIONS) {
        throw ReservationException.insufficientResources("registration table is full");
      }
      List<Registration> all = new ArrayList<>(s.registrations());
      all.addAll(added);
      ReservationState next =
          s.withRegistrations(all, s.reservation()).withAptpl(r.aptpl()).nextGeneration();
      return ReservationOutcome.unchanged(next);
    }
    if (!ignoreKey && r.key() != mine.key()) {
      throw ReservationException.conflict("reservation key does not match the registration");
    }
    if (r.specIPt()) {
      throw ReservationException.invalidParameter(20, 3, "SPEC_I_PT from a registered I_T nexus");
    }
    if (r.serviceActionKey() == 0) {
      return unregister(s, mine);
    }
    List<Registration> all = new ArrayList<>(s.registrations());
    all.set(all.indexOf(mine), mine.withKey(r.serviceActionKey()));
    ReservationState next =
        s.withRegistrations(all, s.reservation()).withAptpl(r.aptpl()).nextGeneration();
    return ReservationOutcome.unchanged(next);
  }

  /** The registrations a REGISTER from an unregistered nexus creates (itself + SPEC_I_PT). */
  private static List<Registration> newRegistrations(
      ReservationState s, ItNexus n, ReservationRequest r) throws ReservationException {
    Registration self =
        new Registration(
            r.serviceActionKey(),
            TransportId.ofInitiatorPort(n.initiatorPort()),
            n.targetPort(),
            r.allTgPt());
    for (Registration existing : s.registrations()) {
      if (existing.overlaps(self)) {
        // Only possible with ALL_TG_PT: this initiator port is registered through another port.
        throw ReservationException.conflict("initiator port already registered elsewhere");
      }
    }
    List<Registration> added = new ArrayList<>();
    added.add(self);
    if (!r.specIPt()) {
      return added;
    }
    for (TransportId id : r.transportIds()) {
      Registration other = new Registration(r.serviceActionKey(), id, n.targetPort(), r.allTgPt());
      if (id.isPort() && self.initiator().covers(id) && other.overlaps(self)) {
        continue; // the sender listed itself; SPC-4 registers it once
      }
      for (Registration existing : s.registrations()) {
        if (existing.overlaps(other)) {
          throw ReservationException.invalidParameter(
              24, -1, "TransportID already registered: " + id);
        }
      }
      for (Registration pending : added) {
        if (pending.overlaps(other)) {
          throw ReservationException.invalidParameter(24, -1, "TransportID listed twice: " + id);
        }
      }
      added.add(other);
    }
    return added;
  }

  /** Removes one registration; losing the holder releases a single-holder reservation. */
  private static ReservationOutcome unregister(ReservationState s, Registration gone) {
    List<Registration> left = s.without(x -> x == gone);
    Held held = s.reservation();
    List<ReservationNotice> notices = new ArrayList<>();
    if (held != null) {
      if (held.type().allRegistrants()) {
        if (left.isEmpty()) {
          held = null;
        }
      } else if (held.holder().equals(gone.identity())) {
        if (held.type().notifiesOnRelease()) {
          left.forEach(x -> notices.add(ReservationNotice.released(x)));
        }
        held = null;
      }
    }
    return new ReservationOutcome(s.withRegistrations(left, held).nextGeneration(), notices);
  }

  private static ReservationOutcome reserve(ReservationState s, ItNexus n, ReservationRequest r)
      throws ReservationException {
    ReservationType type = requireScopeAndType(r);
    Registration mine = requireRegistered(s, n, r.key());
    Held held = s.reservation();
    if (held != null) {
      if (s.isHolder(n) && held.type() == type) {
        return ReservationOutcome.unchanged(s);
      }
      throw ReservationException.conflict("another reservation exists");
    }
    Held next = new Held(type, type.allRegistrants() ? null : mine.identity());
    return ReservationOutcome.unchanged(s.withReservation(next));
  }

  private static ReservationOutcome release(ReservationState s, ItNexus n, ReservationRequest r)
      throws ReservationException {
    requireRegistered(s, n, r.key());
    Held held = s.reservation();
    if (held == null || !s.isHolder(n)) {
      return ReservationOutcome.unchanged(s); // SPC-4: GOOD, nothing released
    }
    if (r.scope() != 0 || r.typeCode() != held.type().code()) {
      throw ReservationException.invalidRelease("scope or type differs from the reservation");
    }
    List<ReservationNotice> notices = new ArrayList<>();
    if (held.type().notifiesOnRelease()) {
      for (Registration x : s.registrations()) {
        if (!x.matches(n)) {
          notices.add(ReservationNotice.released(x));
        }
      }
    }
    return new ReservationOutcome(s.withReservation(null), notices);
  }

  private static ReservationOutcome clear(ReservationState s, ItNexus n, ReservationRequest r)
      throws ReservationException {
    Registration mine = requireRegistered(s, n, r.key());
    List<ReservationNotice> notices = new ArrayList<>();
    for (Registration x : s.registrations()) {
      if (x != mine) {
        notices.add(ReservationNotice.preempted(x));
      }
    }
    return new ReservationOutcome(s.withRegistrations(List.of(), null).nextGeneration(), notices);
  }

  private static ReservationOutcome preempt(ReservationState s, ItNexus n, ReservationRequest r)
      throws ReservationException {
    ReservationType type = requireScopeAndType(r);
    Registration mine = requireRegistered(s, n, r.key());
    long sark = r.serviceActionKey();
    Held held = s.reservation();
    Registration holder = s.holderRegistration();
    boolean takesReservation =
        held != null && (held.type().allRegistrants() ? sark == 0 : holder.key() == sark);
    if (!takesReservation) {
      // No reservation is touched: only registrations with the key go (SPC-4 5.13.11.2.3/4).
      if (sark == 0) {
        throw ReservationException.invalidParameter(
            8, -1, "SERVICE ACTION RESERVATION KEY is zero");
      }
      List<ReservationNotice> notices = new ArrayList<>();
      List<Registration> left = removeKey(s, mine, x -> x.key() == sark, notices);
      if (notices.isEmpty()) {
        throw ReservationException.conflict("no registration has the key to preempt");
      }
      return new ReservationOutcome(s.withRegistrations(left, held).nextGeneration(), notices);
    }
    List<ReservationNotice> notices = new ArrayList<>();
    List<Registration> left =
        removeKey(s, mine, x -> held.type().allRegistrants() || x.key() == sark, notices);
    if (held.type() != type) {
      for (Registration x : left) {
        if (x != mine) {
          notices.add(ReservationNotice.released(x));
        }
      }
    }
    Held next = new Held(type, type.allRegistrants() ? null : mine.identity());
    return new ReservationOutcome(s.withRegistrations(left, next).nextGeneration(), notices);
  }

  /** Keeps {@code mine} and every registration {@code drop} rejects; notices the dropped ones. */
  private static List<Registration> removeKey(
      ReservationState s,
      Registration mine,
      java.util.function.Predicate<Registration> drop,
      List<ReservationNotice> notices) {
    List<Registration> left = new ArrayList<>();
    for (Registration x : s.registrations()) {
      if (x != mine && drop.test(x)) {
        notices.add(ReservationNotice.registrationPreempted(x));
      } else {
        left.add(x);
      }
    }
    return left;
  }

  private static ReservationOutcome registerAndMove(
      ReservationState s, ItNexus n, ReservationRequest r, IntFunction<TargetPort> ports)
      throws ReservationException {
    Registration mine = requireRegistered(s, n, r.key());
    Held held = s.reservation();
    if (held == null || !s.isHolder(n) || held.type().allRegistrants()) {
      throw ReservationException.conflict("REGISTER AND MOVE needs a single-holder reservation");
    }
    if (r.serviceActionKey() == 0) {
      throw ReservationException.invalidParameter(8, -1, "SERVICE ACTION RESERVATION KEY is zero");
    }
    TransportId to = r.transportIds().getFirst();
    if (!to.isPort()) {
      throw ReservationException.invalidParameter(
          24, -1, "REGISTER AND MOVE needs a port TransportID");
    }
    TargetPort port = ports == null ? null : ports.apply(r.relativeTargetPortId());
    if (port == null) {
      throw ReservationException.invalidParameter(18, -1, "unknown relative target port id");
    }
    Registration dest = new Registration(r.serviceActionKey(), to, port, false);
    if (dest.overlaps(mine)) {
      throw ReservationException.invalidParameter(24, -1, "cannot move a reservation to itself");
    }
    List<Registration> all = new ArrayList<>();
    boolean placed = false;
    for (Registration x : s.registrations()) {
      if (x == mine && r.unregister()) {
        continue;
      }
      if (x.overlaps(dest)) {
        if (placed) {
          continue; // a device-form registration also covering the port folds into the move
        }
        x = new Registration(r.serviceActionKey(), to, port, false);
        placed = true;
      }
      all.add(x);
    }
    if (!placed) {
      if (all.size() >= MAX_REGISTRATIONS) {
        throw ReservationException.insufficientResources("registration table is full");
      }
      all.add(dest);
    }
    Held next = new Held(held.type(), dest.identity());
    return ReservationOutcome.unchanged(
        s.withRegistrations(all, next).withAptpl(r.aptpl()).nextGeneration());
  }
}
