package io.duet.iscsi;

/**
 * What a login settled: who logged in to what, and the operational values both sides use for the
 * rest of the session (RFC 7143 13).
 *
 * @param discovery true for SessionType=Discovery
 * @param initiatorName the InitiatorName key
 * @param targetName the TargetName key, null in discovery sessions
 * @param isid the initiator session id (48 bits)
 * @param requestedTsih the TSIH of the leading Login Request (0 for a new session)
 * @param cid the connection id
 * @param headerDigest CRC32C on headers
 * @param dataDigest CRC32C on data segments
 * @param maxSendDataSegmentLength the initiator's MaxRecvDataSegmentLength: our send limit
 * @param maxRecvDataSegmentLength our MaxRecvDataSegmentLength: what the initiator may send
 * @param firstBurstLength most unsolicited bytes per command
 * @param maxBurstLength most bytes per solicited sequence (R2T) or Data-In sequence
 * @param immediateData data may ride in the SCSI Command PDU
 * @param initialR2T unsolicited Data-Out PDUs are not allowed
 * @param maxOutstandingR2T R2Ts in flight per command
 */
record SessionParams(
    boolean discovery,
    String initiatorName,
    String targetName,
    long isid,
    int requestedTsih,
    int cid,
    boolean headerDigest,
    boolean dataDigest,
    int maxSendDataSegmentLength,
    int maxRecvDataSegmentLength,
    int firstBurstLength,
    int maxBurstLength,
    boolean immediateData,
    boolean initialR2T,
    int maxOutstandingR2T) {

  /** The ISID as 12 hex digits, as the SCSI initiator port name shows it. */
  String isidHex() {
    return String.format("%012x", isid);
  }

  /** The SCSI initiator port name of this session (RFC 7143 10.1.1). */
  String initiatorPort() {
    return initiatorName + ",i,0x" + isidHex();
  }
}
