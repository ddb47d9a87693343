package io.duet.nbd;

/**
 * A client sent bytes that do not parse as what the protocol says comes next. During negotiation it
 * becomes NBD_REP_ERR_INVALID; in transmission, a bad request magic closes the connection.
 */
final class MalformedException extends Exception {
  private static final long serialVersionUID = 1L;

  MalformedException(String message) {
    super(message);
  }
}
