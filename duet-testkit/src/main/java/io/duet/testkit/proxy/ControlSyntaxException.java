package io.duet.testkit.proxy;

/** A control line that is not a command the proxy understands; the message says what is wrong. */
final class ControlSyntaxException extends Exception {
  private static final long serialVersionUID = 1L;

  ControlSyntaxException(String message) {
    super(message);
  }
}
