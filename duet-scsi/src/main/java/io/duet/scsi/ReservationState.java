package io.duet.scsi;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * An immutable snapshot of a logical unit's persistent reservation state: the generation counter,
 * the APTPL setting, every registration and the reservation, if any. Commands turn one snapshot
 * into the next ({@link ReservationLogic}); {@link ReservationCodec} serialises it for APTPL and,
 * later, for replication to the peer site.
 *
 * @param generation PRgeneration, a 32-bit counter that wraps
 * @param aptpl whether the state must survive power loss (the last REGISTER's APTPL bit)
 * @param registrations registrations in the order they were made (READ KEYS reports this order)
 * @param reservation the persistent reservation, or null
 */
record ReservationState(
    int generation, boolean aptpl, List<Registration> registrations, Held reservation) {

  /** No registrations, no reservation. */
  static final ReservationState EMPTY = new ReservationState(0, false, List.of(), null);

  /**
   * The reservation: its type, and the {@link Registration#identity()} of its holder (null for the
   * all-registrants types, where every registrant holds it).
   */
  record Held(ReservationType type, String holder) {
    Held {
      Objects.requireNonNull(type, "type");
      if (type.allRegistrants() != (holder == null)) {
        throw new IllegalArgumentException("holder must be null exactly for all-registrants types");
      }
    }
  }

  ReservationState {
    registrations = List.copyOf(registrations);
    if (reservation != null && registrations.isEmpty()) {
      throw new IllegalArgumentException("a reservation needs a registration");
    }
    if (reservation != null && reservation.holder() != null) {
      String h = reservation.holder();
      if (registrations.stream().noneMatch(r -> r.identity().equals(h))) {
        throw new IllegalArgumentException("reservation holder is not registered: " + h);
      }
    }
  }

  /** The registration commands from {@code nexus} act for, or null. */
  Registration registrationFor(ItNexus nexus) {
    for (Registration r : registrations) {
      if (r.matches(nexus)) {
        return r;
      }
    }
    return null;
  }

  /** Whether {@code nexus} is a reservation holder. */
  boolean isHolder(ItNexus nexus) {
    if (reservation == null) {
      return false;
    }
    Registration mine = registrationFor(nexus);
    if (mine == null) {
      return false;
    }
    return reservation.type().allRegistrants() || mine.identity().equals(reservation.holder());
  }

  /** The holder's registration for the single-holder types, or null. */
  Registration holderRegistration() {
    if (reservation == null || reservation.holder() == null) {
      return null;
    }
    for (Registration r : registrations) {
      if (r.identity().equals(reservation.holder())) {
        return r;
      }
    }
    return null;
  }

  /** Whether any persistent reservation state exists (SPC-2 RESERVE then conflicts). */
  boolean active() {
    return !registrations.isEmpty() || reservation != null;
  }

  ReservationState withRegistrations(List<Registration> regs, Held held) {
    return new ReservationState(generation, aptpl, regs, held);
  }

  ReservationState withReservation(Held held) {
    return new ReservationState(generation, aptpl, registrations, held);
  }

  ReservationState withAptpl(boolean value) {
    return new ReservationState(generation, value, registrations, reservation);
  }

  /** The next generation: SPC-4 bumps it for every successful PROUT but RESERVE and RELEASE. */
  ReservationState nextGeneration() {
    return new ReservationState(generation + 1, aptpl, registrations, reservation);
  }

  /** The registrations minus those for which {@code drop} says so. */
  List<Registration> without(java.util.function.Predicate<Registration> drop) {
    List<Registration> kept = new ArrayList<>(registrations.size());
    for (Registration r : registrations) {
      if (!drop.test(r)) {
        kept.add(r);
      }
    }
    return kept;
  }
}
