package io.duet.sync.peering;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * The site's open pairing invitation: at most one at a time (a new one revokes the previous), held
 * in memory only (a restart revokes it), single use, expiring, and limited to a few attempts so
 * online guessing is hopeless. Every challenge sent spends an attempt, even if the guesser then
 * hangs up, because a challenge is what a guess needs.
 */
public final class Invitations {
  public static final Duration TTL_DEFAULT = Duration.ofMinutes(15);
  public static final int ATTEMPTS_DEFAULT = 5;
  public static final int PBKDF2_ITERATIONS_DEFAULT = 100_000;

  /** Crockford base32: no I, L, O, U, so a read-aloud passphrase survives transcription. */
  private static final String ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

  private static final int PASSPHRASE_CHARS = 20; // 100 bits

  private final Clock clock;
  private final SecureRandom random;
  private final Duration ttl;
  private final int maxAttempts;
  private final int iterations;
  private Open open;

  /** The salt, key and counters of the open invitation. */
  record Challenge(byte[] salt, int iterations, byte[] key, long serial) {}

  private static final class Open {
    final byte[] salt;
    final byte[] key;
    final Instant expiresAt;
    final long serial;
    int attemptsLeft;

    Open(byte[] salt, byte[] key, Instant expiresAt, int attempts, long serial) {
      this.salt = salt;
      this.key = key;
      this.expiresAt = expiresAt;
      this.attemptsLeft = attempts;
      this.serial = serial;
    }
  }

  private long serials;

  public Invitations(Clock clock, SecureRandom random) {
    this(clock, random, TTL_DEFAULT, ATTEMPTS_DEFAULT, PBKDF2_ITERATIONS_DEFAULT);
  }

  public Invitations(
      Clock clock, SecureRandom random, Duration ttl, int maxAttempts, int pbkdf2Iterations) {
    this.clock = Objects.requireNonNull(clock, "clock");
    this.random = Objects.requireNonNull(random, "random");
    if (ttl.isNegative() || ttl.isZero()) {
      throw new IllegalArgumentException("ttl must be positive: " + ttl);
    }
    if (maxAttempts < 1 || maxAttempts > 100) {
      throw new IllegalArgumentException("attempts must be 1..100: " + maxAttempts);
    }
    if (pbkdf2Iterations < PairingKeys.MIN_ITERATIONS
        || pbkdf2Iterations > PairingKeys.MAX_ITERATIONS) {
      throw new IllegalArgumentException("bad PBKDF2 iteration count " + pbkdf2Iterations);
    }
    this.ttl = ttl;
    this.maxAttempts = maxAttempts;
    this.iterations = pbkdf2Iterations;
  }

  /** Opens a new invitation, revoking any earlier one, and returns its passphrase. */
  public Invitation create() {
    StringBuilder pass = new StringBuilder();
    for (int i = 0; i < PASSPHRASE_CHARS; i++) {
      if (i > 0 && i % 5 == 0) {
        pass.append('-');
      }
      pass.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
    }
    byte[] salt = new byte[16];
    random.nextBytes(salt);
    String passphrase = pass.toString();
    byte[] key = PairingKeys.derive(passphrase, salt, iterations);
    Instant expires = clock.instant().plus(ttl);
    synchronized (this) {
      open = new Open(salt, key, expires, maxAttempts, ++serials);
    }
    return new Invitation(passphrase, expires, maxAttempts);
  }

  /** When the open invitation expires, if one is open and usable. */
  public synchronized Optional<Instant> openUntil() {
    if (open == null || open.attemptsLeft <= 0 || !clock.instant().isBefore(open.expiresAt)) {
      return Optional.empty();
    }
    return Optional.of(open.expiresAt);
  }

  /** Revokes the open invitation, if any. */
  public synchronized void revoke() {
    open = null;
  }

  /** Spends one attempt of the open invitation and returns what the challenge needs. */
  synchronized Challenge begin() throws PairingException {
    if (open == null) {
      throw new PairingException(
          PairingException.Reason.NO_INVITATION,
          "no open invitation: run 'duet peer invite' on this site first");
    }
    if (!clock.instant().isBefore(open.expiresAt)) {
      open = null;
      throw new PairingException(
          PairingException.Reason.EXPIRED, "the invitation expired: create a new one");
    }
    if (open.attemptsLeft <= 0) {
      open = null;
      throw new PairingException(
          PairingException.Reason.ATTEMPTS_EXHAUSTED,
          "too many wrong passphrases: the invitation is revoked, create a new one");
    }
    open.attemptsLeft--;
    return new Challenge(open.salt.clone(), iterations, open.key.clone(), open.serial);
  }

  /** Attempts left on the invitation {@code serial} (0 if it is gone). */
  synchronized int attemptsLeft(long serial) {
    return open != null && open.serial == serial ? open.attemptsLeft : 0;
  }

  /**
   * Consumes the invitation {@code serial} after a successful proof; false if it was revoked or
   * replaced meanwhile (then the pairing must not be stored).
   */
  synchronized boolean consume(long serial) {
    if (open == null || open.serial != serial || !clock.instant().isBefore(open.expiresAt)) {
      return false;
    }
    open = null;
    return true;
  }
}
