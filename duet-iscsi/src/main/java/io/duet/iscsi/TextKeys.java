package io.duet.iscsi;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The key=value text of Login and Text PDUs (RFC 7143 6.1): UTF-8 pairs, each ended by a NUL.
 * Parsing is strict and bounded; it never throws anything but {@link TextFormatException}.
 */
final class TextKeys {
  /** RFC 7143 6.1: key names are at most 63 bytes. */
  static final int MAX_KEY_BYTES = 63;

  /** RFC 7143 6.1: values are at most 255 bytes except binary CHAP values (8192). */
  static final int MAX_VALUE_BYTES = 8192;

  /** Most pairs accepted in one request. */
  static final int MAX_PAIRS = 256;

  /** One key and its value, in the order received. */
  record Pair(String key, String value) {}

  /** Malformed text: the caller answers with a login or reject error. */
  static final class TextFormatException extends Exception {
    private static final long serialVersionUID = 1L;

    TextFormatException(String message) {
      super(message);
    }
  }

  private TextKeys() {}

  /**
   * Parses {@code length} bytes. A missing NUL after the last pair is tolerated (some initiators
   * omit it); empty pairs (padding NULs) are skipped.
   *
   * @throws TextFormatException on a pair without '=', a bad key name, an over-long key or value, a
   *     duplicate key, or too many pairs
   */
  static List<Pair> parse(byte[] data, int length) throws TextFormatException {
    List<Pair> pairs = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    int start = 0;
    while (start < length) {
      int end = start;
      while (end < length && data[end] != 0) {
        end++;
      }
      if (end > start) {
        Pair p = parsePair(data, start, end);
        if (!seen.add(p.key())) {
          throw new TextFormatException("duplicate key " + p.key());
        }
        if (pairs.size() >= MAX_PAIRS) {
          throw new TextFormatException("more than " + MAX_PAIRS + " keys");
        }
        pairs.add(p);
      }
      start = end + 1;
    }
    return pairs;
  }

  private static Pair parsePair(byte[] data, int start, int end) throws TextFormatException {
    int eq = -1;
    for (int i = start; i < end; i++) {
      if (data[i] == '=') {
        eq = i;
        break;
      }
    }
    if (eq < 0) {
      throw new TextFormatException("pair without '='");
    }
    int keyLength = eq - start;
    if (keyLength == 0 || keyLength > MAX_KEY_BYTES) {
      throw new TextFormatException("key name of " + keyLength + " bytes");
    }
    for (int i = start; i < eq; i++) {
      int c = data[i] & 0xff;
      boolean ok =
          (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || c == '.'
              || c == '-'
              || c == '+'
              || c == '@'
              || c == '_';
      if (!ok) {
        throw new TextFormatException(String.format("bad character 0x%02x in key name", c));
      }
    }
    if (end - eq - 1 > MAX_VALUE_BYTES) {
      throw new TextFormatException("value longer than " + MAX_VALUE_BYTES + " bytes");
    }
    String key = new String(data, start, keyLength, StandardCharsets.US_ASCII);
    String value = new String(data, eq + 1, end - eq - 1, StandardCharsets.UTF_8);
    return new Pair(key, value);
  }

  /** Encodes pairs as key=value NUL ... */
  static byte[] encode(List<Pair> pairs) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Pair p : pairs) {
      out.writeBytes(p.key().getBytes(StandardCharsets.UTF_8));
      out.write('=');
      out.writeBytes(p.value().getBytes(StandardCharsets.UTF_8));
      out.write(0);
    }
    return out.toByteArray();
  }
}
