package io.duet.iscsi;

/**
 * A login that must end with a non-success Login Response: carries the status class and detail (RFC
 * 7143 11.13.5) and a message for the log.
 */
final class LoginException extends Exception {
  private static final long serialVersionUID = 1L;

  static final int INITIATOR_ERROR = 0x0200;
  static final int AUTHENTICATION_FAILURE = 0x0201;
  static final int AUTHORIZATION_FAILURE = 0x0202;
  static final int NOT_FOUND = 0x0203;
  static final int UNSUPPORTED_VERSION = 0x0205;
  static final int MISSING_PARAMETER = 0x0207;
  static final int SESSION_TYPE_NOT_SUPPORTED = 0x0209;
  static final int SESSION_DOES_NOT_EXIST = 0x020a;
  static final int INVALID_DURING_LOGIN = 0x020b;
  static final int TARGET_ERROR = 0x0300;

  private final int status;

  LoginException(int status, String message) {
    super(message);
    this.status = status;
  }

  /** Status class in the high byte, detail in the low byte. */
  int status() {
    return status;
  }
}
