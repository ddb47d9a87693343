package io.duet.sync.proto;

/**
 * Bytes that are not a valid frame: wrong magic, version or checksum, truncation, an unknown
 * message type or a field out of range. The peer link treats it as a protocol error.
 */
public final class FrameException extends Exception {
  private static final long serialVersionUID = 1L;

  public FrameException(String message) {
    super(message);
  }
}
