package io.duet.iscsi;

import io.duet.iscsi.TargetCatalog.ChapCredentials;
import io.duet.iscsi.TextKeys.Pair;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The target side of CHAP (RFC 1994 as RFC 7143 12.1.3 uses it): offers an algorithm, sends a
 * challenge, checks the initiator's response and, in mutual mode, answers the initiator's
 * challenge. One instance per login.
 */
final class Chap {
  /** Where the exchange stands. */
  enum State {
    AWAIT_ALGORITHM,
    AWAIT_RESPONSE,
    DONE
  }

  /** CHAP_A values Duet accepts, with their digest. */
  enum Algorithm {
    MD5(5, "MD5", 16),
    SHA256(7, "SHA-256", 32);

    final int code;
    final String jcaName;
    final int challengeBytes;

    Algorithm(int code, String jcaName, int challengeBytes) {
      this.code = code;
      this.jcaName = jcaName;
      this.challengeBytes = challengeBytes;
    }

    static Algorithm byCode(int code) {
      for (Algorithm a : values()) {
        if (a.code == code) {
          return a;
        }
      }
      return null;
    }
  }

  /** Longest binary value decoded (RFC 7143 allows 8192 bytes of text). */
  private static final int MAX_BINARY_BYTES = 4096;

  private final ChapCredentials credentials;
  private final Random random;
  private State state = State.AWAIT_ALGORITHM;
  private Algorithm algorithm;
  private int identifier;
  private byte[] challenge;

  /**
   * @param random a SecureRandom in production; tests inject a seeded one
   */
  Chap(ChapCredentials credentials, Random random) {
    this.credentials = credentials;
    this.random = random;
  }

  State state() {
    return state;
  }

  /** Handles the CHAP keys of one Login Request and returns the keys to answer with. */
  List<Pair> step(Map<String, String> keys) throws LoginException {
    return switch (state) {
      case AWAIT_ALGORITHM -> offerChallenge(keys);
      case AWAIT_RESPONSE -> checkResponse(keys);
      case DONE -> {
        if (keys.keySet().stream().anyMatch(k -> k.startsWith("CHAP_"))) {
          throw new LoginException(
              LoginException.INITIATOR_ERROR, "CHAP keys after authentication completed");
        }
        yield List.of();
      }
    };
  }

  private List<Pair> offerChallenge(Map<String, String> keys) throws LoginException {
    String offered = keys.get("CHAP_A");
    if (offered == null) {
      return List.of(); // the initiator has not started CHAP yet (AuthMethod only)
    }
    for (String item : offered.split(",", 16)) {
      Algorithm a = Algorithm.byCode(parseSmallNumber(item.trim()));
      if (a != null) {
        algorithm = a;
        break;
      }
    }
    if (algorithm == null) {
      throw new LoginException(
          LoginException.AUTHENTICATION_FAILURE, "no supported CHAP_A in " + offered);
    }
    identifier = random.nextInt(256);
    challenge = new byte[algorithm.challengeBytes];
    random.nextBytes(challenge);
    state = State.AWAIT_RESPONSE;
    List<Pair> out = new ArrayList<>();
    out.add(new Pair("CHAP_A", Integer.toString(algorithm.code)));
    out.add(new Pair("CHAP_I", Integer.toString(identifier)));
    out.add(new Pair("CHAP_C", "0x" + HexFormat.of().formatHex(challenge)));
    return out;
  }

  private List<Pair> checkResponse(Map<String, String> keys) throws LoginException {
    String name = keys.get("CHAP_N");
    String response = keys.get("CHAP_R");
    if (name == null || response == null) {
      throw new LoginException(LoginException.AUTHENTICATION_FAILURE, "CHAP_N/CHAP_R missing");
    }
    byte[] got = decodeOrFail(response);
    byte[] expected = digest(algorithm, identifier, credentials.secret(), challenge);
    boolean nameOk =
        MessageDigest.isEqual(
            name.getBytes(StandardCharsets.UTF_8),
            credentials.user().getBytes(StandardCharsets.UTF_8));
    if (!MessageDigest.isEqual(got, expected) || !nameOk) {
      throw new LoginException(
          LoginException.AUTHENTICATION_FAILURE, "CHAP response from '" + name + "' is wrong");
    }
    String theirId = keys.get("CHAP_I");
    String theirChallenge = keys.get("CHAP_C");
    state = State.DONE;
    if (theirId == null && theirChallenge == null) {
      return List.of();
    }
    if (theirId == null || theirChallenge == null) {
      throw new LoginException(
          LoginException.AUTHENTICATION_FAILURE, "mutual CHAP needs both CHAP_I and CHAP_C");
    }
    if (!credentials.mutual()) {
      throw new LoginException(
          LoginException.AUTHENTICATION_FAILURE, "mutual CHAP asked but no target secret set");
    }
    int id = parseSmallNumber(theirId);
    byte[] c = decodeOrFail(theirChallenge);
    if (id < 0 || id > 255 || c.length == 0) {
      throw new LoginException(LoginException.AUTHENTICATION_FAILURE, "bad mutual CHAP_I/CHAP_C");
    }
    // A reflected challenge would let an attacker make us compute its answer for it.
    if (Arrays.equals(c, challenge)) {
      throw new LoginException(
          LoginException.AUTHENTICATION_FAILURE, "mutual CHAP challenge equals ours");
    }
    byte[] answer = digest(algorithm, id, credentials.mutualSecret(), c);
    String user = credentials.mutualUser() == null ? "" : credentials.mutualUser();
    return List.of(
        new Pair("CHAP_N", user), new Pair("CHAP_R", "0x" + HexFormat.of().formatHex(answer)));
  }

  private static byte[] decodeOrFail(String value) throws LoginException {
    try {
      return decodeBinary(value);
    } catch (IllegalArgumentException e) {
      throw new LoginException(
          LoginException.AUTHENTICATION_FAILURE, "bad CHAP binary value: " + e.getMessage());
    }
  }

  /** RFC 1994: H(identifier || secret || challenge). */
  static byte[] digest(Algorithm algorithm, int identifier, byte[] secret, byte[] challenge) {
    try {
      MessageDigest md = MessageDigest.getInstance(algorithm.jcaName);
      md.update((byte) identifier);
      md.update(secret);
      md.update(challenge);
      return md.digest();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("JDK lacks " + algorithm.jcaName, e);
    }
  }

  /**
   * Decodes an iSCSI binary value: {@code 0x}/{@code 0X} hex (an odd digit count gets a leading
   * zero nibble) or {@code 0b}/{@code 0B} base64.
   *
   * @throws IllegalArgumentException on any other form or bad digits
   */
  static byte[] decodeBinary(String value) {
    if (value.length() < 3 || value.charAt(0) != '0') {
      throw new IllegalArgumentException("binary value must start with 0x or 0b");
    }
    char kind = Character.toLowerCase(value.charAt(1));
    String body = value.substring(2);
    if (kind == 'x') {
      if (body.length() > 2 * MAX_BINARY_BYTES) {
        throw new IllegalArgumentException("binary value too long");
      }
      String even = (body.length() & 1) == 1 ? "0" + body : body;
      return HexFormat.of().parseHex(even);
    }
    if (kind == 'b') {
      if (body.length() > (MAX_BINARY_BYTES / 3 + 1) * 4) {
        throw new IllegalArgumentException("binary value too long");
      }
      return Base64.getDecoder().decode(body);
    }
    throw new IllegalArgumentException("binary value must start with 0x or 0b");
  }

  /** A decimal or 0x-hex number up to 255*255, or -1 when it is neither. */
  static int parseSmallNumber(String s) {
    try {
      if (s.length() > 2 && (s.startsWith("0x") || s.startsWith("0X"))) {
        return s.length() > 10 ? -1 : Integer.parseInt(s.substring(2), 16);
      }
      return s.isEmpty() || s.length() > 9 ? -1 : Integer.parseInt(s);
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
