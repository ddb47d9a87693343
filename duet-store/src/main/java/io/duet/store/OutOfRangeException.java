package io.duet.store;

/** An access outside the volume or not aligned to its block size. */
public final class OutOfRangeException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  public OutOfRangeException(String message) {
    super(message);
  }
}
