package io.duet.scsi;

import java.util.Locale;
import java.util.Objects;

/**
 * One persistent reservation registration: a reservation key registered for an initiator (port or,
 * via a device-form TransportID, every port of an initiator device) through one target port, or
 * through all target ports when ALL_TG_PT was set. Immutable.
 *
 * @param key the reservation key (never zero: registering key zero unregisters)
 * @param initiator who registered
 * @param targetPort the target port the registration was made through (its relative id is what READ
 *     FULL STATUS reports)
 * @param allTargetPorts registered with ALL_TG_PT: the registration covers every target port
 */
record Registration(
    long key, TransportId initiator, TargetPort targetPort, boolean allTargetPorts) {
  Registration {
    Objects.requireNonNull(initiator, "initiator");
    Objects.requireNonNull(targetPort, "targetPort");
    if (key == 0) {
      throw new IllegalArgumentException("reservation key zero is not a registration");
    }
  }

  /** Whether commands from {@code nexus} act for this registration. */
  boolean matches(ItNexus nexus) {
    return initiator.matches(nexus)
        && (allTargetPorts || targetPort.name().equals(nexus.targetPort().name()));
  }

  /**
   * A stable name for "who registered" that survives key changes: the reservation remembers its
   * holder by this, so a holder that re-registers with a new key still holds it.
   */
  String identity() {
    String who = initiator.name().toLowerCase(Locale.ROOT) + "," + initiator.isid();
    return who + "|" + (allTargetPorts ? "*" : targetPort.name());
  }

  /** Whether some I_T nexus would match both registrations (they must never coexist). */
  boolean overlaps(Registration other) {
    boolean initiators =
        initiator.name().equalsIgnoreCase(other.initiator.name())
            && (initiator.isid() == null
                || other.initiator.isid() == null
                || initiator.isid().equals(other.initiator.isid()));
    boolean ports =
        allTargetPorts || other.allTargetPorts || targetPort.name().equals(other.targetPort.name());
    return initiators && ports;
  }

  Registration withKey(long newKey) {
    return new Registration(newKey, initiator, targetPort, allTargetPorts);
  }
}
