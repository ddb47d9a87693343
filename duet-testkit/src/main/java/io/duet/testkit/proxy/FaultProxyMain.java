package io.duet.testkit.proxy;

import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.Reader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * Puts a {@link FaultProxy} on a link by hand, controlled by lines on standard input.
 *
 * <pre>
 * java -cp duet-testkit.jar io.duet.testkit.proxy.FaultProxyMain LISTEN_PORT TARGET_HOST:PORT
 *     [--bind ADDRESS] [--seed N]
 * </pre>
 *
 * <p>It prints {@code listening on HOST:PORT -> TARGET} once ready (port 0 picks a free port), then
 * reads one command per line and answers {@code ok}, a status line or {@code error: ...}:
 *
 * <pre>
 * latency up|down|both DELAY [JITTER]   latency both 5ms   latency up 20ms 2ms
 * bandwidth up|down|both RATE           bandwidth down 10MB   (MB=10^6, MiB=2^20, mbit; 0 = off)
 * blackhole up|down|both                drop bytes in that direction, connections stay open
 * refuse on|off                         reset each newly accepted connection
 * reset                                 reset every current connection (RST)
 * heal                                  undo blackhole, refuse, latency and bandwidth
 * status | help | quit
 * </pre>
 *
 * "up" is client to target, "down" target to client. Blank lines and lines starting with {@code #}
 * are ignored. The proxy stops at {@code quit} or at the end of standard input, so it never
 * outlives the script or terminal that feeds it.
 */
public final class FaultProxyMain {
  private FaultProxyMain() {}

  /** Runs the proxy until {@code quit} or end of input; exits with 2 on bad arguments. */
  public static void main(String[] args) throws IOException {
    PrintStream out = System.out;
    FaultProxy.Builder builder;
    try {
      builder = parseArgs(args);
    } catch (IllegalArgumentException e) {
      System.err.println("error: " + e.getMessage());
      System.err.println(
          "usage: FaultProxyMain LISTEN_PORT TARGET_HOST:PORT [--bind ADDRESS] [--seed N]");
      System.exit(2);
      return;
    }
    try (FaultProxy proxy = builder.start()) {
      out.println(
          "listening on "
              + proxy.address().getAddress().getHostAddress()
              + ":"
              + proxy.port()
              + " -> "
              + proxy.target().getHostString()
              + ":"
              + proxy.target().getPort());
      out.flush();
      Reader in = new InputStreamReader(System.in, StandardCharsets.UTF_8);
      new ControlSession(proxy, in, out).run();
    }
  }

  static FaultProxy.Builder parseArgs(String[] args) {
    if (args.length < 2) {
      throw new IllegalArgumentException("need a listen port and a target");
    }
    int listenPort = port(args[0]);
    FaultProxy.Builder builder = FaultProxy.to(target(args[1])).listenPort(listenPort);
    for (int i = 2; i < args.length; i += 2) {
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException(args[i] + " needs a value");
      }
      String value = args[i + 1];
      switch (args[i]) {
        case "--bind" -> builder.bindAddress(address(value));
        case "--seed" -> builder.seed(number(value, "seed"));
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    return builder;
  }

  private static InetSocketAddress target(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException("target must be HOST:PORT, not " + hostPort);
    }
    String host = hostPort.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    return new InetSocketAddress(host, port(hostPort.substring(colon + 1)));
  }

  private static int port(String text) {
    long port = number(text, "port");
    if (port < 0 || port > 65_535) {
      throw new IllegalArgumentException("port out of range: " + text);
    }
    return (int) port;
  }

  private static long number(String text, String what) {
    try {
      return Long.parseLong(text);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(what + " is not a number: " + text);
    }
  }

  private static InetAddress address(String text) {
    try {
      return InetAddress.getByName(text);
    } catch (IOException e) {
      throw new IllegalArgumentException("unknown bind address " + text);
    }
  }
}
