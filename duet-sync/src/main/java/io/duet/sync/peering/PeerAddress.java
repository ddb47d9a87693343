package io.duet.sync.peering;

import java.net.InetSocketAddress;

/**
 * Parses the {@code HOST:PORT} form used for replication addresses ({@code [v6]:PORT} for IPv6
 * literals). The host is not resolved here, so a configured name is looked up at each dial.
 */
public final class PeerAddress {
  private PeerAddress() {}

  /** Parses {@code text}; throws IllegalArgumentException with a readable message if it is bad. */
  public static InetSocketAddress parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("address is empty; expected HOST:PORT");
    }
    String s = text.strip();
    String host;
    String port;
    if (s.startsWith("[")) {
      int close = s.indexOf(']');
      if (close < 2 || close + 1 >= s.length() || s.charAt(close + 1) != ':') {
        throw new IllegalArgumentException("bad address '" + text + "'; expected [V6]:PORT");
      }
      host = s.substring(1, close);
      port = s.substring(close + 2);
    } else {
      int colon = s.lastIndexOf(':');
      if (colon <= 0 || s.indexOf(':') != colon) {
        throw new IllegalArgumentException("bad address '" + text + "'; expected HOST:PORT");
      }
      host = s.substring(0, colon);
      port = s.substring(colon + 1);
    }
    for (char c : host.toCharArray()) {
      if (Character.isWhitespace(c) || Character.isISOControl(c) || c == '/' || c == '@') {
        throw new IllegalArgumentException("bad host in address '" + text + "'");
      }
    }
    int p;
    try {
      p = Integer.parseInt(port);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("bad port in address '" + text + "'");
    }
    if (p < 1 || p > 65_535) {
      throw new IllegalArgumentException("port out of range in address '" + text + "'");
    }
    return InetSocketAddress.createUnresolved(host, p);
  }
}
