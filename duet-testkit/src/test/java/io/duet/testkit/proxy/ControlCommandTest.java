package io.duet.testkit.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ControlCommandTest {
  private static final List<String> VALID =
      List.of(
          "latency up 5ms",
          "latency both 1.5s 250us",
          "LATENCY Down 0",
          "bandwidth down 10MB",
          "bandwidth up 8MiB/s",
          "bandwidth both 100mbit",
          "bandwidth both unlimited",
          "blackhole both",
          "blackhole upstream",
          "refuse on",
          "refuse off",
          "reset",
          "heal",
          "status",
          "help",
          "quit",
          "exit");

  @Test
  void parsesEveryCommand() throws Exception {
    assertThat(ControlCommand.parse("  latency up 5ms "))
        .isEqualTo(
            new ControlCommand.Latency(
                EnumSet.of(Direction.UPSTREAM), Duration.ofMillis(5), Duration.ZERO));
    assertThat(ControlCommand.parse("latency both 1.5s 250us"))
        .isEqualTo(
            new ControlCommand.Latency(
                EnumSet.allOf(Direction.class),
                Duration.ofMillis(1500),
                Duration.ofNanos(250_000)));
    assertThat(ControlCommand.parse("bandwidth down 10MB"))
        .isEqualTo(new ControlCommand.Bandwidth(EnumSet.of(Direction.DOWNSTREAM), 10_000_000));
    assertThat(ControlCommand.parse("bandwidth up 8MiB/s"))
        .isEqualTo(new ControlCommand.Bandwidth(EnumSet.of(Direction.UPSTREAM), 8 << 20));
    assertThat(ControlCommand.parse("bandwidth both 100mbit"))
        .isEqualTo(new ControlCommand.Bandwidth(EnumSet.allOf(Direction.class), 12_500_000));
    assertThat(ControlCommand.parse("bandwidth both off"))
        .isEqualTo(new ControlCommand.Bandwidth(EnumSet.allOf(Direction.class), 0));
    assertThat(ControlCommand.parse("blackhole down"))
        .isEqualTo(new ControlCommand.Blackhole(EnumSet.of(Direction.DOWNSTREAM)));
    assertThat(ControlCommand.parse("refuse on")).isEqualTo(new ControlCommand.Refuse(true));
    assertThat(ControlCommand.parse("reset")).isEqualTo(ControlCommand.Simple.RESET);
    assertThat(ControlCommand.parse("exit")).isEqualTo(ControlCommand.Simple.QUIT);
    for (String line : VALID) {
      assertThat(ControlCommand.parse(line)).as(line).isNotNull();
    }
  }

  @Test
  void malformedLinesGetAReason() {
    List<String> bad =
        List.of(
            "",
            "   ",
            "latency",
            "latency sideways 5ms",
            "latency up",
            "latency up 5",
            "latency up 5parsecs",
            "latency up -5ms",
            "latency up 2h",
            "latency up 99999999999999999999ms",
            "latency up 5ms 1ms extra",
            "bandwidth up 0.1B",
            "bandwidth up 200GB",
            "bandwidth up ten",
            "bandwidth 10MB",
            "blackhole",
            "blackhole north",
            "refuse maybe",
            "reset now",
            "frobnicate",
            "x".repeat(ControlCommand.MAX_LINE_CHARS + 1));
    for (String line : bad) {
      assertThatThrownBy(() -> ControlCommand.parse(line))
          .as(line)
          .isInstanceOf(ControlSyntaxException.class)
          .hasMessageNotContaining("null");
    }
  }

  @Test
  void randomAndMutatedInputNeverEscapesTheParser() {
    Random random = new Random(7);
    String alphabet = "latencybwdhrfusopk0123456789.:/ \tMGKiBms-\u00e9\u0000";
    for (int i = 0; i < 20_000; i++) {
      String line;
      if (random.nextBoolean()) {
        StringBuilder b = new StringBuilder();
        int length = random.nextInt(40);
        for (int j = 0; j < length; j++) {
          b.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        line = b.toString();
      } else {
        StringBuilder b = new StringBuilder(VALID.get(random.nextInt(VALID.size())));
        for (int edits = random.nextInt(4); edits >= 0 && !b.isEmpty(); edits--) {
          int at = random.nextInt(b.length());
          switch (random.nextInt(3)) {
            case 0 -> b.deleteCharAt(at);
            case 1 -> b.insert(at, alphabet.charAt(random.nextInt(alphabet.length())));
            default -> b.setCharAt(at, (char) random.nextInt(0x3000));
          }
        }
        line = b.toString();
      }
      try {
        assertThat(ControlCommand.parse(line)).isNotNull();
      } catch (ControlSyntaxException e) {
        assertThat(e.getMessage()).isNotBlank();
      }
    }
  }
}
