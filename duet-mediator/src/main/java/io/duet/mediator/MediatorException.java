package io.duet.mediator;

import java.io.IOException;

/**
 * A request the mediator could not serve, with the kind that says what the caller should do. The
 * REST edge maps kinds to HTTP statuses; {@link MediatorClient} maps them back, and adds {@link
 * Kind#UNREACHABLE} for a mediator it could not talk to.
 */
public final class MediatorException extends IOException {
  private static final long serialVersionUID = 1L;

  /** What went wrong, from the caller's point of view. */
  public enum Kind {
    /** The request is malformed; fix it (HTTP 400). */
    INVALID(400),
    /** No credentials, or wrong ones (HTTP 401). */
    UNAUTHORIZED(401),
    /**
     * Not allowed (HTTP 403): the site is not a member of the relationship, or the caller (user or
     * client certificate) acts for another site than the one the request names.
     */
    FORBIDDEN(403),
    /** No such relationship (HTTP 404); register it first. */
    NOT_FOUND(404),
    /** The request contradicts the recorded state (HTTP 409). */
    CONFLICT(409),
    /** Too many failed logins: the user is locked out for a while (HTTP 429). */
    LOCKED_OUT(429),
    /** The mediator failed (HTTP 500), e.g. it could not make the state durable. */
    INTERNAL(500),
    /** The mediator could not be reached or did not answer in time (client side only). */
    UNREACHABLE(0);

    private final int httpStatus;

    Kind(int httpStatus) {
      this.httpStatus = httpStatus;
    }

    /** The HTTP status this kind is sent as (0: never sent). */
    public int httpStatus() {
      return httpStatus;
    }

    /** The kind an HTTP error status stands for. */
    public static Kind ofStatus(int status) {
      for (Kind k : values()) {
        if (k.httpStatus == status) {
          return k;
        }
      }
      return status >= 500 ? INTERNAL : INVALID;
    }
  }

  private final Kind kind;

  /** An error of {@code kind} with a message for the operator. */
  public MediatorException(Kind kind, String message) {
    super(message);
    this.kind = kind;
  }

  /** An error of {@code kind} caused by {@code cause}. */
  public MediatorException(Kind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }

  static MediatorException invalid(String message) {
    return new MediatorException(Kind.INVALID, message);
  }
}
