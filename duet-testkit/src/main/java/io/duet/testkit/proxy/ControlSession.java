package io.duet.testkit.proxy;

import java.io.IOException;
import java.io.PrintStream;
import java.io.Reader;
import java.util.Locale;

/**
 * Runs {@link FaultProxyMain}'s line protocol: reads commands, applies them to a proxy, and answers
 * each line with {@code ok}, a status line, or {@code error: REASON}. Lines longer than {@link
 * ControlCommand#MAX_LINE_CHARS} are refused without being held in memory whole.
 */
final class ControlSession {
  private final FaultProxy proxy;
  private final Reader in;
  private final PrintStream out;

  ControlSession(FaultProxy proxy, Reader in, PrintStream out) {
    this.proxy = proxy;
    this.in = in;
    this.out = out;
  }

  /** Serves commands until {@code quit} or the end of input. */
  void run() throws IOException {
    while (true) {
      String line = readLine();
      if (line == null) {
        return;
      }
      String trimmed = line.strip();
      if (trimmed.isEmpty() || trimmed.startsWith("#")) {
        continue;
      }
      try {
        if (!apply(ControlCommand.parse(trimmed))) {
          return;
        }
      } catch (ControlSyntaxException e) {
        out.println("error: " + e.getMessage());
      }
      out.flush();
    }
  }

  /** Applies one command; false means the session should end. */
  boolean apply(ControlCommand command) {
    switch (command) {
      case ControlCommand.Latency l -> {
        for (Direction d : l.directions()) {
          proxy.latency(d, l.oneWay(), l.jitter());
        }
      }
      case ControlCommand.Bandwidth b -> {
        for (Direction d : b.directions()) {
          proxy.bandwidth(d, b.bytesPerSecond());
        }
      }
      case ControlCommand.Blackhole b -> proxy.blackhole(b.directions().toArray(Direction[]::new));
      case ControlCommand.Refuse r -> proxy.refuseNewConnections(r.on());
      case ControlCommand.Simple s -> {
        switch (s) {
          case RESET -> proxy.reset();
          case HEAL -> proxy.heal();
          case STATUS -> {
            out.println(status());
            return true;
          }
          case HELP -> {
            out.println(ControlCommand.HELP_TEXT);
            return true;
          }
          case QUIT -> {
            out.println("bye");
            return false;
          }
        }
      }
    }
    out.println("ok");
    return true;
  }

  String status() {
    return String.format(
        Locale.ROOT,
        "connections current=%d accepted=%d refused=%d up forwarded=%d dropped=%d"
            + " down forwarded=%d dropped=%d",
        proxy.currentConnections(),
        proxy.connectionsAccepted(),
        proxy.connectionsRefused(),
        proxy.bytesForwarded(Direction.UPSTREAM),
        proxy.bytesDropped(Direction.UPSTREAM),
        proxy.bytesForwarded(Direction.DOWNSTREAM),
        proxy.bytesDropped(Direction.DOWNSTREAM));
  }

  /** One line without its terminator, cut to the limit plus one char so parse() rejects it. */
  private String readLine() throws IOException {
    StringBuilder line = new StringBuilder();
    int c;
    while ((c = in.read()) >= 0) {
      if (c == '\n') {
        return line.toString();
      }
      if (c != '\r' && line.length() <= ControlCommand.MAX_LINE_CHARS) {
        line.append((char) c);
      }
    }
    return line.isEmpty() ? null : line.toString();
  }
}
