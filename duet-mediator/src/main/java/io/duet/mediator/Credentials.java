package io.duet.mediator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.duet.mediator.MediatorException.Kind;
import io.duet.store.AtomicFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;

/**
 * Users and their passwords, stored as salted PBKDF2-HMAC-SHA256 hashes in {@code secrets/users},
 * with a lockout after repeated failures. A verified password is remembered as a keyed SHA-256 for
 * the life of the process, so a site heartbeating every second pays PBKDF2 once.
 */
final class Credentials {
  static final String USERS_FILE = "users";
  static final int ITERATIONS_DEFAULT = 310_000;
  static final int MAX_TRACKED_NAMES = 4096;
  private static final Pattern USER = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._@-]{0,63}");
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path file;
  private final SecureRandom random;
  private final MediatorClock clock;
  private final int maxFailures;
  private final long lockoutNanos;
  private final int iterations;
  private final byte[] cacheKey = new byte[32];
  private final Map<String, String> hashes = new HashMap<>();
  private final Map<String, byte[]> verified = new HashMap<>();
  private final Map<String, Failures> failures = new LinkedHashMap<>();

  private record Failures(int count, long lockedUntilNanos) {}

  private Credentials(
      Path file,
      SecureRandom random,
      MediatorClock clock,
      int maxFailures,
      long lockoutMs,
      int iterations) {
    this.file = file;
    this.random = random;
    this.clock = clock;
    this.maxFailures = maxFailures;
    this.lockoutNanos = lockoutMs * 1_000_000L;
    this.iterations = iterations;
    random.nextBytes(cacheKey);
  }

  static Credentials open(
      Path dataDir,
      SecureRandom random,
      MediatorClock clock,
      int maxFailures,
      long lockoutMs,
      int iterations)
      throws IOException {
    Path file = MediatorCa.secretsDir(dataDir).resolve(USERS_FILE);
    Credentials c = new Credentials(file, random, clock, maxFailures, lockoutMs, iterations);
    Optional<byte[]> stored = AtomicFile.read(file);
    if (stored.isPresent()) {
      JsonNode users = JSON.readTree(stored.get()).get("users");
      if (users == null || !users.isObject()) {
        throw new IOException(file + ": no users object");
      }
      for (Map.Entry<String, JsonNode> e : users.properties()) {
        c.hashes.put(e.getKey(), e.getValue().asText());
      }
    }
    return c;
  }

  synchronized boolean isEmpty() {
    return hashes.isEmpty();
  }

  /** Creates or changes a user's password; durable on return. */
  synchronized void setPassword(String user, char[] password) throws IOException {
    if (!USER.matcher(user).matches()) {
      throw MediatorException.invalid("user name '" + user + "' is not allowed");
    }
    if (password.length < 8) {
      throw MediatorException.invalid("a password needs at least 8 characters");
    }
    byte[] salt = new byte[16];
    random.nextBytes(salt);
    Base64.Encoder b64 = Base64.getEncoder();
    String stored =
        "pbkdf2-sha256$"
            + iterations
            + "$"
            + b64.encodeToString(salt)
            + "$"
            + b64.encodeToString(pbkdf2(password, salt, iterations));
    Map<String, String> next = new HashMap<>(hashes);
    next.put(user, stored);
    ObjectNode root = JSON.createObjectNode();
    ObjectNode users = root.putObject("users");
    next.forEach(users::put);
    AtomicFile.write(file, JSON.writeValueAsBytes(root));
    hashes.put(user, stored);
    verified.remove(user);
  }

  /**
   * Checks a user's password. The slow hash runs outside the lock, so one client guessing passwords
   * does not hold up the sites' heartbeats behind it.
   *
   * @throws MediatorException {@link Kind#LOCKED_OUT} while locked (even for the right password),
   *     {@link Kind#UNAUTHORIZED} for a wrong user or password
   */
  void authenticate(String user, char[] password) throws MediatorException {
    byte[] quick = quickHash(password);
    String stored;
    synchronized (this) {
      checkNotLocked(user);
      byte[] known = verified.get(user);
      if (known != null && MessageDigest.isEqual(known, quick)) {
        failures.remove(user);
        return;
      }
      stored = hashes.get(user);
    }
    boolean ok = password.length > 0 && slowCheck(stored, password);
    synchronized (this) {
      checkNotLocked(user);
      if (ok) {
        verified.put(user, quick);
        failures.remove(user);
        return;
      }
      recordFailure(user);
    }
    throw new MediatorException(Kind.UNAUTHORIZED, "wrong user or password");
  }

  private void checkNotLocked(String user) throws MediatorException {
    long now = clock.nanoTime();
    Failures f = failures.get(user);
    if (f != null && f.lockedUntilNanos() != 0 && now - f.lockedUntilNanos() < 0) {
      long waitMs = (f.lockedUntilNanos() - now + 999_999) / 1_000_000;
      throw new MediatorException(
          Kind.LOCKED_OUT, "user is locked out after failed logins; retry in " + waitMs + " ms");
    }
  }

  private void recordFailure(String user) {
    long now = clock.nanoTime();
    Failures f = failures.remove(user);
    int count = (f == null || f.lockedUntilNanos() != 0 ? 0 : f.count()) + 1;
    long lockedUntil = count >= maxFailures ? now + lockoutNanos : 0;
    // Bounded: the oldest names are forgotten first (unknown names count too, against guessing).
    if (failures.size() >= MAX_TRACKED_NAMES) {
      failures.remove(failures.keySet().iterator().next());
    }
    failures.put(user, new Failures(lockedUntil != 0 ? 0 : count, lockedUntil));
  }

  private boolean slowCheck(String stored, char[] password) {
    if (stored == null) {
      // Same work as a real check, so timing does not tell which user names exist.
      pbkdf2(password, cacheKey, iterations);
      return false;
    }
    String[] parts = stored.split("\\$");
    if (parts.length != 4 || !parts[0].equals("pbkdf2-sha256")) {
      return false;
    }
    try {
      byte[] salt = Base64.getDecoder().decode(parts[2]);
      byte[] expected = Base64.getDecoder().decode(parts[3]);
      return MessageDigest.isEqual(expected, pbkdf2(password, salt, Integer.parseInt(parts[1])));
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private byte[] quickHash(char[] password) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      md.update(cacheKey);
      md.update(new String(password).getBytes(StandardCharsets.UTF_8));
      return md.digest();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] pbkdf2(char[] password, byte[] salt, int iterations) {
    try {
      PBEKeySpec spec = new PBEKeySpec(password, salt, iterations, 256);
      return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("PBKDF2 is not available: " + e.getMessage(), e);
    }
  }
}
