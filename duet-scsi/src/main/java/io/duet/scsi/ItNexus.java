package io.duet.scsi;

import java.util.Objects;

/**
 * One I_T nexus: an initiator port talking to a target port. Reservations, unit attentions and ALUA
 * access are all kept per nexus.
 *
 * @param initiatorName the initiator's iSCSI name (or NBD client identity)
 * @param initiatorPort the SCSI initiator port name, for iSCSI {@code "<name>,i,0x<ISID hex>"}
 * @param targetPort the port the command arrived on
 */
public record ItNexus(String initiatorName, String initiatorPort, TargetPort targetPort) {
  public ItNexus {
    Objects.requireNonNull(initiatorName, "initiatorName");
    Objects.requireNonNull(initiatorPort, "initiatorPort");
    Objects.requireNonNull(targetPort, "targetPort");
  }
}
