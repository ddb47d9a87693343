package io.duet.scsi;

import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * One SCSI command as a transport hands it to a logical unit.
 *
 * @param nexus the I_T nexus it arrived on
 * @param cdb the command descriptor block, exactly as received (may be malformed)
 * @param dataOut the Data-Out bytes the transport collected (never more than the command asked for,
 *     see {@link LogicalUnit#dataOutLength}); empty for commands without Data-Out
 * @param allocationLimit the most Data-In bytes the initiator can take (iSCSI's expected data
 *     transfer length); the transport computes residuals from it
 * @param readOnly whether this nexus's mapping of the LU is read-only
 * @param tag the initiator task tag, for task management
 */
public record ScsiTask(
    ItNexus nexus,
    byte[] cdb,
    ByteBuffer dataOut,
    int allocationLimit,
    boolean readOnly,
    long tag) {
  public ScsiTask {
    Objects.requireNonNull(nexus, "nexus");
    Objects.requireNonNull(cdb, "cdb");
    Objects.requireNonNull(dataOut, "dataOut");
  }
}
