package io.duet.sync.peering;

/**
 * Pairing did not complete; {@link #reason()} says why and what the operator should do. Nothing is
 * stored on the side that throws it.
 */
public final class PairingException extends Exception {
  private static final long serialVersionUID = 1L;

  /** Why pairing failed; {@code code} is how the reason travels on the wire. */
  public enum Reason {
    /** This site has no replication address configured (site.yaml {@code replication:}). */
    NOT_CONFIGURED(1),
    /** The peer's replication port could not be reached or dropped the connection. */
    UNREACHABLE(2),
    /** The peer has no open invitation: run {@code duet peer invite} there. */
    NO_INVITATION(3),
    /** The invitation expired: create a new one. */
    EXPIRED(4),
    /** Too many wrong passphrases: the invitation is revoked, create a new one. */
    ATTEMPTS_EXHAUSTED(5),
    /** The passphrase does not match the invitation. */
    WRONG_PASSPHRASE(6),
    /** The other side did not prove the passphrase: a man in the middle, or a different site. */
    PEER_NOT_PROVEN(7),
    /** The peer is already known under another identity, or is this site itself. */
    CONFLICT(8),
    /** The other side broke the pairing protocol. */
    PROTOCOL(9);

    final int code;

    Reason(int code) {
      this.code = code;
    }

    static Reason ofCode(int code) {
      for (Reason r : values()) {
        if (r.code == code) {
          return r;
        }
      }
      return PROTOCOL;
    }
  }

  private final Reason reason;

  public PairingException(Reason reason, String message) {
    super(message);
    this.reason = reason;
  }

  public PairingException(Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
