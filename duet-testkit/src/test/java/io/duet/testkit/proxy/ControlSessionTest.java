package io.duet.testkit.proxy;

import static io.duet.testkit.proxy.TestServers.await;
import static io.duet.testkit.proxy.TestServers.connect;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ControlSessionTest {
  @Test
  void scriptDrivesTheProxyAndAnswersEveryLine() throws Exception {
    try (TestServers.Tap tap = new TestServers.Tap();
        FaultProxy proxy = FaultProxy.start(tap.address());
        Socket client = connect(proxy.address());
        Socket server = tap.next()) {
      List<String> answers =
          run(
              proxy,
              """
              # a comment, then a blank line

              blackhole up
              bogus
              latency both 5ms 1ms
              bandwidth down 10MB
              refuse on
              status
              """);
      assertThat(answers.getFirst()).isEqualTo("ok");
      assertThat(answers.get(1)).startsWith("error: unknown command bogus");
      assertThat(answers.subList(2, 5)).containsOnly("ok");
      assertThat(answers.get(5)).startsWith("connections current=1 accepted=1 refused=0");

      client.getOutputStream().write("gone".getBytes(UTF_8));
      await(() -> proxy.bytesDropped(Direction.UPSTREAM) == 4, Duration.ofSeconds(5), "drop");
      try (Socket refused = connect(proxy.address())) {
        await(() -> proxy.connectionsRefused() == 1, Duration.ofSeconds(5), "refusal");
        assertThat(refused.isConnected()).isTrue(); // accepted by the kernel, refused by the proxy
      }

      assertThat(run(proxy, "heal\nreset\nquit\nstatus\n")).containsExactly("ok", "ok", "bye");
      assertThat(proxy.currentConnections()).isZero();
      assertThatThrownBy(() -> server.getInputStream().read()).isInstanceOf(Exception.class);
    }
  }

  @Test
  void overlongLineIsRefusedAndTheSessionGoesOn() throws Exception {
    try (TestServers.Echo echo = new TestServers.Echo();
        FaultProxy proxy = FaultProxy.start(echo.address())) {
      String huge = "latency up " + "9".repeat(1_000_000) + "ms";
      List<String> answers = run(proxy, huge + "\r\nhelp\nheal");
      assertThat(answers.getFirst()).startsWith("error: line longer than");
      assertThat(answers).contains("ok").anyMatch(line -> line.startsWith("latency up|down"));
    }
  }

  @Test
  void commandLineArgumentsAreChecked() {
    assertThat(FaultProxyMain.parseArgs(new String[] {"0", "127.0.0.1:3260", "--seed", "9"}))
        .isNotNull();
    assertThat(FaultProxyMain.parseArgs(new String[] {"0", "[::1]:3260", "--bind", "127.0.0.1"}))
        .isNotNull();
    List<String[]> bad =
        List.of(
            new String[] {},
            new String[] {"0"},
            new String[] {"x", "127.0.0.1:1"},
            new String[] {"70000", "127.0.0.1:1"},
            new String[] {"0", "127.0.0.1"},
            new String[] {"0", ":1"},
            new String[] {"0", "127.0.0.1:-1"},
            new String[] {"0", "127.0.0.1:1", "--seed"},
            new String[] {"0", "127.0.0.1:1", "--seed", "x"},
            new String[] {"0", "127.0.0.1:1", "--colour", "red"});
    for (String[] args : bad) {
      assertThatThrownBy(() -> FaultProxyMain.parseArgs(args))
          .as(String.join(" ", args))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  private static List<String> run(FaultProxy proxy, String script) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (PrintStream out = new PrintStream(bytes, true, UTF_8)) {
      new ControlSession(proxy, new StringReader(script), out).run();
    }
    return bytes.toString(UTF_8).lines().toList();
  }
}
