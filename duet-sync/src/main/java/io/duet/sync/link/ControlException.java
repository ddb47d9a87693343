package io.duet.sync.link;

/**
 * A site-to-site control request failed: the peer refused it (the message is the peer's reason), or
 * it could not be delivered or answered ({@link #unreachable()}: link down, timeout, the peer
 * busy).
 */
public final class ControlException extends Exception {
  private static final long serialVersionUID = 1L;

  private final boolean unreachable;

  /** A refusal by the peer; the message is its reason. */
  public ControlException(String message) {
    this(message, false);
  }

  public ControlException(String message, boolean unreachable) {
    super(message);
    this.unreachable = unreachable;
  }

  /** True when the request may not have reached the peer or was not answered: retry later. */
  public boolean unreachable() {
    return unreachable;
  }
}
