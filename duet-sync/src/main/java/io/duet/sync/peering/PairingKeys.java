package io.duet.sync.peering;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Locale;
import javax.crypto.Mac;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The cryptography of pairing: PBKDF2 of the passphrase, the transcript both sides must agree on
 * and the two HMAC proofs. The transcript binds both TLS certificates as each side saw them, so a
 * relay that terminates TLS on each leg (different certificates per leg) makes the proofs differ.
 */
final class PairingKeys {
  static final int MIN_ITERATIONS = 10_000;
  static final int MAX_ITERATIONS = 10_000_000;
  static final int NONCE_BYTES = 32;
  static final int MAC_BYTES = 32;
  private static final String LABEL = "duet-pairing-v1";

  private PairingKeys() {}

  /** Uppercase, drop separators, and map look-alikes the way Crockford base32 does. */
  static String normalize(String passphrase) {
    StringBuilder out = new StringBuilder();
    for (char c : passphrase.toUpperCase(Locale.ROOT).toCharArray()) {
      switch (c) {
        case '-', ' ', '\t' -> {}
        case 'O' -> out.append('0');
        case 'I', 'L' -> out.append('1');
        default -> out.append(c);
      }
    }
    return out.toString();
  }

  static byte[] derive(String passphrase, byte[] salt, int iterations) {
    char[] chars = normalize(passphrase).toCharArray();
    try {
      PBEKeySpec spec = new PBEKeySpec(chars, salt, iterations, 256);
      return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("PBKDF2 unavailable", e);
    } finally {
      java.util.Arrays.fill(chars, '\0');
    }
  }

  /** Everything both sides saw, in a fixed order; each variable-length part is length-prefixed. */
  static byte[] transcript(
      byte[] clientFingerprint,
      byte[] serverFingerprint,
      byte[] clientNonce,
      byte[] serverNonce,
      String clientAddress,
      byte[] salt,
      int iterations) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      for (byte[] part :
          new byte[][] {
            LABEL.getBytes(StandardCharsets.US_ASCII),
            clientFingerprint,
            serverFingerprint,
            clientNonce,
            serverNonce,
            clientAddress.getBytes(StandardCharsets.UTF_8),
            salt
          }) {
        out.writeInt(part.length);
        out.write(part);
      }
      out.writeInt(iterations);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return bytes.toByteArray();
  }

  static byte[] clientProof(byte[] key, byte[] transcript) {
    return mac(key, "client", transcript);
  }

  static byte[] serverProof(byte[] key, byte[] transcript) {
    return mac(key, "server", transcript);
  }

  static boolean matches(byte[] expected, byte[] actual) {
    return MessageDigest.isEqual(expected, actual);
  }

  private static byte[] mac(byte[] key, String role, byte[] transcript) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      mac.update(role.getBytes(StandardCharsets.US_ASCII));
      mac.update((byte) 0);
      return mac.doFinal(transcript);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HMAC-SHA256 unavailable", e);
    }
  }
}
