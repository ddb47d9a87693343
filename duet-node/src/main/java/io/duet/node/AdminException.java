package io.duet.node;

/**
 * An administrative request the site refuses, with the reason the caller can act on. The REST edge
 * maps {@link Kind} to an HTTP status.
 */
public final class AdminException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Why the request was refused. */
  public enum Kind {
    /** The request itself is malformed or has a bad value: fix the request. */
    INVALID,
    /** What the request names does not exist. */
    NOT_FOUND,
    /** The request clashes with the current state (name taken, still mapped, LUN in use). */
    CONFLICT,
    /** Something the request needs elsewhere (a peer site) could not be reached: retry later. */
    UNAVAILABLE
  }

  private final Kind kind;

  AdminException(Kind kind, String message) {
    super(message);
    this.kind = kind;
  }

  public static AdminException invalid(String message) {
    return new AdminException(Kind.INVALID, message);
  }

  public static AdminException notFound(String message) {
    return new AdminException(Kind.NOT_FOUND, message);
  }

  public static AdminException conflict(String message) {
    return new AdminException(Kind.CONFLICT, message);
  }

  public static AdminException unavailable(String message) {
    return new AdminException(Kind.UNAVAILABLE, message);
  }

  public Kind kind() {
    return kind;
  }
}
