package io.duet.iscsi;

/**
 * A PDU that breaks the protocol. Carries the Reject reason (RFC 7143 11.17.1) to answer with and
 * whether the byte stream can still be trusted: when it cannot (bad header digest, a length we
 * refuse to read) the connection must be closed after the Reject.
 */
final class PduException extends Exception {
  private static final long serialVersionUID = 1L;

  static final int DATA_DIGEST_ERROR = 0x02;
  static final int SNACK_REJECT = 0x03;
  static final int PROTOCOL_ERROR = 0x04;
  static final int COMMAND_NOT_SUPPORTED = 0x05;
  static final int IMMEDIATE_COMMAND_REJECT = 0x06;
  static final int TASK_IN_PROGRESS = 0x07;
  static final int INVALID_DATA_ACK = 0x08;
  static final int INVALID_PDU_FIELD = 0x09;
  static final int LONG_OPERATION_REJECT = 0x0a;
  static final int WAITING_FOR_LOGOUT = 0x0c;

  private final int rejectReason;
  private final boolean fatal;

  PduException(int rejectReason, boolean fatal, String message) {
    super(message);
    this.rejectReason = rejectReason;
    this.fatal = fatal;
  }

  int rejectReason() {
    return rejectReason;
  }

  /** True when the connection cannot continue (the stream position is no longer known). */
  boolean fatal() {
    return fatal;
  }
}
