package io.duet.store;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.UUID;
import java.util.regex.Pattern;

/** Rules for volume names and the derivation of NAA designators and serials from a UUID. */
final class Identities {
  /**
   * The 24-bit IEEE company id in Duet's NAA designators. Duet has no registered OUI; this value
   * has the CID form (second nibble 0xA, locally assigned), so it cannot collide with a registered
   * vendor's OUI.
   */
  static final int DUET_COMPANY_ID = 0xDA7E75;

  static final int MAX_NAME_LENGTH = 64;
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
  private static final Pattern SERIAL = Pattern.compile("[\\x21-\\x7e]{1,64}");

  private Identities() {}

  static VolumeIdentity newIdentity(UUID uuid, String name) {
    checkName(name);
    return new VolumeIdentity(uuid, name, naaFor(uuid), serialFor(uuid));
  }

  static void checkName(String name) {
    if (name == null
        || name.isEmpty()
        || name.length() > MAX_NAME_LENGTH
        || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "volume name must be 1.."
              + MAX_NAME_LENGTH
              + " characters of [A-Za-z0-9._-] starting with a letter or digit: "
              + name);
    }
  }

  static void checkSerial(String serial) {
    if (!SERIAL.matcher(serial).matches()) {
      throw new IllegalArgumentException("serial must be 1..64 printable ASCII characters");
    }
  }

  /**
   * NAA type 6: 4 bits NAA (6), 24 bits company id, 100 bits vendor specific. The vendor bits are
   * the first 100 bits of SHA-256(uuid): deterministic, so both sites derive the same designator,
   * and not dependent on which UUID bits happen to be version/variant constants.
   */
  static byte[] naaFor(UUID uuid) {
    byte[] digest = sha256(uuid);
    byte[] naa = new byte[16];
    naa[0] = (byte) (0x60 | (DUET_COMPANY_ID >>> 20));
    naa[1] = (byte) (DUET_COMPANY_ID >>> 12);
    naa[2] = (byte) (DUET_COMPANY_ID >>> 4);
    naa[3] = (byte) ((DUET_COMPANY_ID & 0xf) << 4 | (digest[0] >>> 4 & 0xf));
    for (int i = 4; i < 16; i++) {
      naa[i] = (byte) (digest[i - 4] << 4 | (digest[i - 3] >>> 4 & 0xf));
    }
    return naa;
  }

  /** 32 upper-case hex digits: the UUID without dashes. */
  static String serialFor(UUID uuid) {
    return String.format(
        "%016X%016X", uuid.getMostSignificantBits(), uuid.getLeastSignificantBits());
  }

  private static byte[] sha256(UUID uuid) {
    ByteBuffer bytes = ByteBuffer.allocate(16);
    bytes.putLong(uuid.getMostSignificantBits()).putLong(uuid.getLeastSignificantBits());
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes.array());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }
}
