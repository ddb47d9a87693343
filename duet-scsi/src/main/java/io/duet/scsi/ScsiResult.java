package io.duet.scsi;

import java.nio.ByteBuffer;

/**
 * What a command returns: SCSI status, sense data when the status is CHECK CONDITION, and the
 * Data-In bytes the command produced (the transport trims them to the initiator's expected length
 * and reports the residual).
 *
 * @param status SCSI status byte (0x00 GOOD, 0x02 CHECK CONDITION, 0x18 RESERVATION CONFLICT ...)
 * @param sense fixed-format sense data, or an empty array
 * @param dataIn Data-In bytes, position 0, limit = length produced
 */
public record ScsiResult(int status, byte[] sense, ByteBuffer dataIn) {
  public static final int GOOD = 0x00;
  public static final int CHECK_CONDITION = 0x02;
  public static final int BUSY = 0x08;
  public static final int RESERVATION_CONFLICT = 0x18;
  public static final int TASK_SET_FULL = 0x28;
  public static final int TASK_ABORTED = 0x40;
}
