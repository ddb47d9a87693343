package io.duet.node;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/**
 * A client network in CIDR notation ({@code 192.0.2.0/24}, {@code ::1/128}, or a bare address for a
 * single host), for NBD export access control. Only literal addresses are accepted: a host name
 * would make access depend on DNS at connect time.
 */
record Cidr(byte[] network, int prefixBits, String text) {
  private static final Pattern LITERAL = Pattern.compile("[0-9A-Fa-f.:]+");

  /** Parses {@code text}; an {@link AdminException} (invalid) says what is wrong. */
  static Cidr parse(String text) {
    if (text == null || text.isBlank()) {
      throw AdminException.invalid("client network must be CIDR like 192.0.2.0/24, got nothing");
    }
    String t = text.strip();
    int slash = t.indexOf('/');
    String addr = slash < 0 ? t : t.substring(0, slash);
    if (!LITERAL.matcher(addr).matches() || !(addr.contains(".") || addr.contains(":"))) {
      throw AdminException.invalid("client network '" + text + "' is not an IP address or CIDR");
    }
    byte[] bytes;
    try {
      bytes = InetAddress.getByName(addr).getAddress(); // a literal: no DNS lookup happens
    } catch (UnknownHostException e) {
      throw AdminException.invalid("client network '" + text + "' is not an IP address or CIDR");
    }
    int max = bytes.length * 8;
    int prefix = max;
    if (slash >= 0) {
      try {
        prefix = Integer.parseInt(t.substring(slash + 1));
      } catch (NumberFormatException e) {
        prefix = -1;
      }
      if (prefix < 0 || prefix > max) {
        throw AdminException.invalid(
            "client network '" + text + "': prefix length must be 0.." + max);
      }
    }
    return new Cidr(mask(bytes, prefix), prefix, t);
  }

  /** Whether {@code address} lies in this network (IPv4 never matches an IPv6 network). */
  boolean contains(InetAddress address) {
    byte[] a = address.getAddress();
    return a.length == network.length && java.util.Arrays.equals(mask(a, prefixBits), network);
  }

  private static byte[] mask(byte[] bytes, int prefix) {
    byte[] out = bytes.clone();
    for (int i = 0; i < out.length; i++) {
      int keep = Math.max(0, Math.min(8, prefix - i * 8));
      out[i] = (byte) (out[i] & (0xff00 >> keep));
    }
    return out;
  }
}
