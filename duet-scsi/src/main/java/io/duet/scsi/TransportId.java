package io.duet.scsi;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Objects;

/**
 * An iSCSI TransportID (SPC-4 7.6.4.6, protocol identifier 5h): an initiator device name alone
 * (format 00b, matching every port of that initiator) or an initiator port name (format 01b, {@code
 * name + ",i,0x" + ISID}). Persistent reservations use it to name registrants in READ FULL STATUS
 * and to address other I_T nexuses in SPEC_I_PT and REGISTER AND MOVE.
 *
 * @param name the iSCSI name (compared case-insensitively, as iSCSI names are normalised)
 * @param isid the ISID as 12 lower-case hex digits, or null for the device (format 00b) form
 */
record TransportId(String name, String isid) {
  static final int PROTOCOL_ISCSI = 0x5;

  /** RFC 7143 caps iSCSI names at 223 bytes. */
  static final int MAX_NAME_BYTES = 223;

  private static final String PORT_SEPARATOR = ",i,0x";

  /** SPC-4: an iSCSI TransportID's ADDITIONAL LENGTH is at least 20 and a multiple of 4. */
  private static final int MIN_ADDITIONAL_LENGTH = 20;

  TransportId {
    Objects.requireNonNull(name, "name");
    if (isid != null) {
      isid = normaliseIsid(isid);
    }
  }

  /** Parses an I_T nexus' initiator port name; names without ",i,0x" become the device form. */
  static TransportId ofInitiatorPort(String initiatorPort) {
    int at = initiatorPort.toLowerCase(Locale.ROOT).lastIndexOf(PORT_SEPARATOR);
    if (at < 0) {
      return new TransportId(initiatorPort, null);
    }
    String hex = initiatorPort.substring(at + PORT_SEPARATOR.length());
    if (!isHex(hex) || hex.isEmpty() || hex.length() > 12) {
      return new TransportId(initiatorPort, null);
    }
    return new TransportId(initiatorPort.substring(0, at), hex);
  }

  /** True for the port form (format 01b). */
  boolean isPort() {
    return isid != null;
  }

  /** Whether the initiator port of {@code nexus} is this port, or a port of this device. */
  boolean matches(ItNexus nexus) {
    return covers(ofInitiatorPort(nexus.initiatorPort()));
  }

  /** Whether {@code port} is this port (port form) or one of this device's ports (device form). */
  boolean covers(TransportId port) {
    if (!name.equalsIgnoreCase(port.name)) {
      return false;
    }
    return isid == null || isid.equals(port.isid);
  }

  /** The TransportID bytes, zero-padded so the length is a multiple of 4 and at least 24. */
  byte[] encode() {
    String text = isid == null ? name : name + PORT_SEPARATOR + isid;
    byte[] chars = text.getBytes(StandardCharsets.UTF_8);
    int additional = Math.max(MIN_ADDITIONAL_LENGTH, (chars.length + 1 + 3) & ~3);
    byte[] out = new byte[4 + additional];
    out[0] = (byte) ((isid == null ? 0x00 : 0x40) | PROTOCOL_ISCSI);
    out[2] = (byte) (additional >>> 8);
    out[3] = (byte) additional;
    System.arraycopy(chars, 0, out, 4, chars.length);
    return out;
  }

  /** A parsed TransportID and how many bytes of the parameter list it took. */
  record Parsed(TransportId id, int length) {}

  /**
   * Parses one TransportID at {@code offset} of {@code data}, which must not read past {@code
   * limit}. Offsets in errors are relative to the parameter list start ({@code base}).
   */
  static Parsed parse(byte[] data, int offset, int limit, int base) throws ReservationException {
    if (offset + 4 > limit) {
      throw ReservationException.parameterListLength("TransportID header truncated");
    }
    int protocol = data[offset] & 0x0f;
    int format = (data[offset] >>> 6) & 0x3;
    if (protocol != PROTOCOL_ISCSI) {
      throw ReservationException.invalidParameter(
          base + offset, -1, "TransportID protocol " + protocol + " is not iSCSI");
    }
    if (format > 1) {
      throw ReservationException.invalidParameter(
          base + offset, 7, "TransportID format " + format + " is not defined for iSCSI");
    }
    int additional = ((data[offset + 2] & 0xff) << 8) | (data[offset + 3] & 0xff);
    if (offset + 4 + additional > limit) {
      throw ReservationException.parameterListLength("TransportID runs past the list");
    }
    int end = offset + 4;
    while (end < offset + 4 + additional && data[end] != 0) {
      end++;
    }
    int textLength = end - offset - 4;
    if (textLength == 0 || textLength > MAX_NAME_BYTES + PORT_SEPARATOR.length() + 12) {
      throw ReservationException.invalidParameter(base + offset + 4, -1, "bad iSCSI name length");
    }
    String text = new String(data, offset + 4, textLength, StandardCharsets.UTF_8);
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < 0x21 || c == 0x7f || c == '\ufffd') {
        throw ReservationException.invalidParameter(
            base + offset + 4, -1, "iSCSI name has a non-printable character");
      }
    }
    TransportId id;
    if (format == 0) {
      id = new TransportId(text, null);
    } else {
      int at = text.toLowerCase(Locale.ROOT).lastIndexOf(PORT_SEPARATOR);
      String hex = at < 0 ? "" : text.substring(at + PORT_SEPARATOR.length());
      if (at <= 0 || hex.isEmpty() || hex.length() > 12 || !isHex(hex)) {
        throw ReservationException.invalidParameter(
            base + offset + 4, -1, "initiator port TransportID lacks \",i,0x<ISID>\"");
      }
      id = new TransportId(text.substring(0, at), hex);
    }
    return new Parsed(id, 4 + additional);
  }

  private static boolean isHex(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (Character.digit(s.charAt(i), 16) < 0) {
        return false;
      }
    }
    return true;
  }

  private static String normaliseIsid(String hex) {
    if (!isHex(hex) || hex.isEmpty() || hex.length() > 12) {
      throw new IllegalArgumentException("ISID must be 1..12 hex digits: " + hex);
    }
    // Leading zeros are not significant; keep one spelling so equals() compares ports.
    long value = Long.parseLong(hex, 16);
    return HexFormat.of().toHexDigits(value).substring(4);
  }

  @Override
  public String toString() {
    return isid == null ? name : name + PORT_SEPARATOR + isid;
  }
}
