package io.duet.node.config;

import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * A network endpoint as operators write it: {@code host:port}, IPv6 literals in brackets ({@code
 * [::1]:3260}). Port 0 means "any free port" where the caller allows it.
 *
 * @param host a host name or IP literal, without brackets
 * @param port 0..65535
 */
public record HostPort(String host, int port) {
  public HostPort {
    Objects.requireNonNull(host, "host");
    if (host.isEmpty()) {
      throw new IllegalArgumentException("empty host");
    }
    if (port < 0 || port > 0xffff) {
      throw new IllegalArgumentException("port out of range 0..65535: " + port);
    }
  }

  /**
   * Parses {@code host:port} or {@code [v6]:port}.
   *
   * @throws IllegalArgumentException with a message saying what is wrong
   */
  public static HostPort parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("expected host:port, got an empty value");
    }
    String t = text.strip();
    String host;
    String portText;
    if (t.startsWith("[")) {
      int close = t.indexOf(']');
      if (close < 0 || close + 1 >= t.length() || t.charAt(close + 1) != ':') {
        throw new IllegalArgumentException("expected [ipv6]:port, got '" + text + "'");
      }
      host = t.substring(1, close);
      portText = t.substring(close + 2);
    } else {
      int colon = t.lastIndexOf(':');
      if (colon < 0) {
        throw new IllegalArgumentException("expected host:port, got '" + text + "'");
      }
      if (t.indexOf(':') != colon) {
        throw new IllegalArgumentException(
            "IPv6 addresses need brackets, e.g. [::1]:3260; got '" + text + "'");
      }
      host = t.substring(0, colon);
      portText = t.substring(colon + 1);
    }
    if (host.isEmpty()) {
      throw new IllegalArgumentException("missing host in '" + text + "'");
    }
    if (!host.matches("[A-Za-z0-9.:%_-]+")) {
      throw new IllegalArgumentException("bad host in '" + text + "'");
    }
    int port;
    try {
      port = Integer.parseInt(portText);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("bad port in '" + text + "': not a number");
    }
    if (port < 0 || port > 0xffff) {
      throw new IllegalArgumentException("bad port in '" + text + "': must be 0..65535");
    }
    return new HostPort(host, port);
  }

  /** Whether the host is a wildcard address, which cannot be announced to initiators. */
  public boolean wildcard() {
    return host.equals("0.0.0.0") || host.equals("::") || host.equals("0:0:0:0:0:0:0:0");
  }

  public HostPort withPort(int newPort) {
    return new HostPort(host, newPort);
  }

  /** Resolves the host (a DNS lookup for names). */
  public InetSocketAddress toSocketAddress() {
    return new InetSocketAddress(host, port);
  }

  /** The same endpoint as a bound socket reports it. */
  public static HostPort of(InetSocketAddress address) {
    String h =
        address.getAddress() != null
            ? address.getAddress().getHostAddress()
            : address.getHostString();
    int zone = h.indexOf('%');
    if (zone >= 0) {
      h = h.substring(0, zone);
    }
    return new HostPort(h, address.getPort());
  }

  /** The host as it goes into a URL or a SendTargets value (IPv6 in brackets). */
  public String urlHost() {
    return host.indexOf(':') >= 0 ? "[" + host + "]" : host;
  }

  @Override
  public String toString() {
    return urlHost() + ":" + port;
  }
}
