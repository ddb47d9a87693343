package io.duet.testkit.proxy;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** One line of {@link FaultProxyMain}'s control protocol, parsed. */
sealed interface ControlCommand {
  int MAX_LINE_CHARS = 200;
  long MAX_BANDWIDTH_BYTES_PER_SECOND = 100L * 1000 * 1000 * 1000;

  record Latency(Set<Direction> directions, Duration oneWay, Duration jitter)
      implements ControlCommand {}

  record Bandwidth(Set<Direction> directions, long bytesPerSecond) implements ControlCommand {}

  record Blackhole(Set<Direction> directions) implements ControlCommand {}

  record Refuse(boolean on) implements ControlCommand {}

  enum Simple implements ControlCommand {
    RESET,
    HEAL,
    STATUS,
    HELP,
    QUIT
  }

  String HELP_TEXT =
      """
      latency up|down|both DELAY [JITTER]   e.g. latency both 5ms, latency up 20ms 2ms
      bandwidth up|down|both RATE           e.g. bandwidth down 10MB, 100mbit, 512KiB/s, 0 = off
      blackhole up|down|both                drop bytes in that direction, keep connections
      refuse on|off                         reset newly accepted connections
      reset                                 reset every current connection (RST)
      heal                                  undo blackhole, refuse, latency and bandwidth
      status                                counters and connections
      help | quit\
      """;

  /** Parses one line (leading/trailing blanks ignored); throws with a reason if it is not valid. */
  static ControlCommand parse(String line) throws ControlSyntaxException {
    if (line.length() > MAX_LINE_CHARS) {
      throw new ControlSyntaxException("line longer than " + MAX_LINE_CHARS + " characters");
    }
    List<String> words = List.of(line.strip().toLowerCase(Locale.ROOT).split("\\s+"));
    String verb = words.getFirst();
    return switch (verb) {
      case "latency" -> {
        arity(words, 3, 4, "latency DIRECTION DELAY [JITTER]");
        Duration jitter = words.size() == 4 ? duration(words.get(3)) : Duration.ZERO;
        yield new Latency(directions(words.get(1)), duration(words.get(2)), jitter);
      }
      case "bandwidth" -> {
        arity(words, 3, 3, "bandwidth DIRECTION RATE");
        yield new Bandwidth(directions(words.get(1)), rate(words.get(2)));
      }
      case "blackhole" -> {
        arity(words, 2, 2, "blackhole DIRECTION");
        yield new Blackhole(directions(words.get(1)));
      }
      case "refuse" -> {
        arity(words, 2, 2, "refuse on|off");
        yield switch (words.get(1)) {
          case "on" -> new Refuse(true);
          case "off" -> new Refuse(false);
          default ->
              throw new ControlSyntaxException("refuse takes on or off, not " + words.get(1));
        };
      }
      case "reset", "heal", "status", "help", "quit", "exit" -> {
        arity(words, 1, 1, verb);
        yield verb.equals("exit") ? Simple.QUIT : Simple.valueOf(verb.toUpperCase(Locale.ROOT));
      }
      case "" -> throw new ControlSyntaxException("empty command");
      default -> throw new ControlSyntaxException("unknown command " + verb + " (try help)");
    };
  }

  private static void arity(List<String> words, int min, int max, String usage)
      throws ControlSyntaxException {
    if (words.size() < min || words.size() > max) {
      throw new ControlSyntaxException("usage: " + usage);
    }
  }

  private static Set<Direction> directions(String word) throws ControlSyntaxException {
    return switch (word) {
      case "up", "upstream" -> EnumSet.of(Direction.UPSTREAM);
      case "down", "downstream" -> EnumSet.of(Direction.DOWNSTREAM);
      case "both" -> EnumSet.allOf(Direction.class);
      default ->
          throw new ControlSyntaxException("direction must be up, down or both, not " + word);
    };
  }

  Pattern QUANTITY = Pattern.compile("([0-9]{1,12}(?:\\.[0-9]{1,9})?)([a-z/]*)");

  Map<String, Long> NANOS_PER_UNIT =
      Map.of("ns", 1L, "us", 1_000L, "ms", 1_000_000L, "s", 1_000_000_000L, "m", 60_000_000_000L);

  /** A delay such as {@code 5ms}, {@code 1.5s}, {@code 250us}; a unit is required except for 0. */
  static Duration duration(String word) throws ControlSyntaxException {
    Matcher m = QUANTITY.matcher(word);
    if (!m.matches()) {
      throw new ControlSyntaxException("not a duration: " + word + " (e.g. 5ms, 1.5s)");
    }
    BigDecimal number = new BigDecimal(m.group(1));
    String unit = m.group(2);
    if (unit.isEmpty() && number.signum() == 0) {
      return Duration.ZERO;
    }
    Long perUnit = NANOS_PER_UNIT.get(unit);
    if (perUnit == null) {
      throw new ControlSyntaxException("unknown time unit in " + word + " (ns, us, ms, s, m)");
    }
    BigDecimal nanos = number.multiply(BigDecimal.valueOf(perUnit));
    if (nanos.compareTo(BigDecimal.valueOf(FaultProxy.MAX_DELAY_NANOS)) > 0) {
      throw new ControlSyntaxException("delay above one hour: " + word);
    }
    return Duration.ofNanos(nanos.longValue());
  }

  Map<String, Long> BYTES_PER_UNIT =
      Map.ofEntries(
          Map.entry("", 1L),
          Map.entry("b", 1L),
          Map.entry("kb", 1_000L),
          Map.entry("mb", 1_000_000L),
          Map.entry("gb", 1_000_000_000L),
          Map.entry("kib", 1L << 10),
          Map.entry("mib", 1L << 20),
          Map.entry("gib", 1L << 30));

  Map<String, Long> BITS_PER_UNIT =
      Map.of("bit", 1L, "kbit", 1_000L, "mbit", 1_000_000L, "gbit", 1_000_000_000L);

  /**
   * A rate in bytes per second: {@code 10MB} (decimal), {@code 8MiB} (binary), {@code 100mbit}
   * (bits), each optionally followed by {@code /s}; {@code 0}, {@code off} or {@code unlimited}
   * remove the cap.
   */
  static long rate(String word) throws ControlSyntaxException {
    if (word.equals("off") || word.equals("unlimited")) {
      return 0;
    }
    Matcher m = QUANTITY.matcher(word);
    if (!m.matches()) {
      throw new ControlSyntaxException("not a rate: " + word + " (e.g. 10MB, 100mbit, 0)");
    }
    BigDecimal number = new BigDecimal(m.group(1));
    String unit = m.group(2);
    unit = unit.endsWith("/s") ? unit.substring(0, unit.length() - 2) : unit;
    BigDecimal bytes;
    if (BYTES_PER_UNIT.containsKey(unit)) {
      bytes = number.multiply(BigDecimal.valueOf(BYTES_PER_UNIT.get(unit)));
    } else if (BITS_PER_UNIT.containsKey(unit)) {
      bytes =
          number
              .multiply(BigDecimal.valueOf(BITS_PER_UNIT.get(unit)))
              .divide(BigDecimal.valueOf(8));
    } else {
      throw new ControlSyntaxException("unknown rate unit in " + word + " (B, KB, MiB, mbit, ...)");
    }
    if (bytes.compareTo(BigDecimal.valueOf(MAX_BANDWIDTH_BYTES_PER_SECOND)) > 0) {
      throw new ControlSyntaxException("rate above 100 GB/s: " + word);
    }
    if (bytes.signum() > 0 && bytes.compareTo(BigDecimal.ONE) < 0) {
      throw new ControlSyntaxException("rate below 1 byte/s: " + word);
    }
    return bytes.longValue();
  }
}
