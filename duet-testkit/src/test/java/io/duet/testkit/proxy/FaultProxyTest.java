package io.duet.testkit.proxy;

import static io.duet.testkit.proxy.TestServers.await;
import static io.duet.testkit.proxy.TestServers.connect;
import static io.duet.testkit.proxy.TestServers.readExactly;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class FaultProxyTest {
  private static final Duration PROMPTLY = Duration.ofSeconds(5);

  private TestServers.Echo echo;
  private TestServers.Tap tap;

  @BeforeEach
  void servers() throws IOException {
    echo = new TestServers.Echo();
    tap = new TestServers.Tap();
  }

  @AfterEach
  void stopServers() throws IOException {
    echo.close();
    tap.close();
  }

  @Test
  void largeRandomPayloadPassesIntactBothWays() throws Exception {
    try (FaultProxy proxy = FaultProxy.start(echo.address());
        Socket client = connect(proxy.address())) {
      byte[] payload = randomBytes(8 << 20, 1);
      assertThat(echoThrough(client, payload)).isEqualTo(crc(payload));
      await(
          () -> proxy.bytesForwarded(Direction.DOWNSTREAM) == payload.length,
          PROMPTLY,
          "downstream count");
      assertThat(proxy.bytesForwarded(Direction.UPSTREAM)).isEqualTo(payload.length);
      assertThat(proxy.bytesDropped(Direction.UPSTREAM)).isZero();
    }
  }

  @Test
  void jitterNeverReordersBytes() throws Exception {
    try (FaultProxy proxy = FaultProxy.to(echo.address()).seed(42).start();
        Socket client = connect(proxy.address())) {
      proxy.latency(Direction.UPSTREAM, Duration.ofMillis(3), Duration.ofMillis(3));
      proxy.latency(Direction.DOWNSTREAM, Duration.ofMillis(2), Duration.ofMillis(2));
      byte[] payload = randomBytes(2 << 20, 2);
      assertThat(echoThrough(client, payload)).isEqualTo(crc(payload));
    }
  }

  @Test
  void latencyAddsToEveryRoundTrip() throws Exception {
    try (FaultProxy proxy = FaultProxy.start(echo.address());
        Socket client = connect(proxy.address())) {
      rtts(client, 1); // warm the connection up before adding latency
      proxy.latency(Duration.ofMillis(40));
      List<Long> both = rtts(client, 5);
      assertThat(both.getFirst()).isGreaterThanOrEqualTo(80);
      assertThat(both.get(2)).isLessThan(80 + 120);

      proxy.latency(Direction.DOWNSTREAM, Duration.ZERO);
      List<Long> upOnly = rtts(client, 5);
      assertThat(upOnly.getFirst()).isGreaterThanOrEqualTo(40);
      assertThat(upOnly.get(2)).isLessThan(40 + 120);
    }
  }

  @Test
  void loweringLatencyReleasesBytesAlreadyWaiting() throws Exception {
    try (FaultProxy proxy = FaultProxy.start(echo.address());
        Socket client = connect(proxy.address())) {
      proxy.latency(Direction.UPSTREAM, Duration.ofMinutes(10));
      client.getOutputStream().write('x');
      proxy.heal();
      assertThat(client.getInputStream().read()).isEqualTo('x');
    }
  }

  @Test
  void bandwidthCapIsNeverExceededAndHealingLiftsIt() throws Exception {
    long cap = 8L << 20;
    try (FaultProxy proxy = FaultProxy.start(echo.address());
        Socket client = connect(proxy.address())) {
      proxy.bandwidth(Direction.UPSTREAM, cap);
      byte[] payload = randomBytes(4 << 20, 3);
      long start = System.nanoTime();
      assertThat(echoThrough(client, payload)).isEqualTo(crc(payload));
      double seconds = (System.nanoTime() - start) / 1e9;
      double rate = payload.length / seconds;
      // Never faster than the cap (plus the 100 ms burst); the lower bound is loose because a
      // loaded 2-core machine may not even reach the cap.
      assertThat(rate).isBetween(cap * 0.25, cap * 1.25);

      // Healed, the cap is gone: the same transfer is faster than the capped one was.
      proxy.heal();
      start = System.nanoTime();
      assertThat(echoThrough(client, payload)).isEqualTo(crc(payload));
      assertThat(payload.length / ((System.nanoTime() - start) / 1e9)).isGreaterThan(rate);
    }
  }

  @Test
  void blackholeSilencesOneDirectionAndLosesItsBytes() throws Exception {
    try (FaultProxy proxy = FaultProxy.start(tap.address());
        Socket client = connect(proxy.address());
        Socket server = tap.next()) {
      proxy.blackhole(Direction.UPSTREAM);

      server.getOutputStream().write(ascii("still flows"));
      assertThat(readExactly(client.getInputStream(), 11)).isEqualTo(ascii("still flows"));

      client.getOutputStream().write(ascii("lost"));
      await(() -> proxy.bytesDropped(Direction.UPSTREAM) == 4, PROMPTLY, "bytes dropped");
      assertThat(server.getInputStream().available()).isZero();
      assertThat(proxy.currentConnections()).isEqualTo(1);

      proxy.heal();
      client.getOutputStream().write(ascii("kept"));
      // The first bytes the server ever sees are the ones sent after healing.
      assertThat(readExactly(server.getInputStream(), 4)).isEqualTo(ascii("kept"));
      // The pump counts a chunk after writing it, so the server may read it first.
      await(() -> proxy.bytesForwarded(Direction.UPSTREAM) == 4, PROMPTLY, "kept counted");
    }
  }

  @Test
  void bytesInFlightWhenCutAreLost() throws Exception {
    try (FaultProxy proxy = FaultProxy.start(tap.address());
        Socket client = connect(proxy.address());
        Socket server = tap.next()) {
      proxy.latency(Direction.DOWNSTREAM, Duration.ofMinutes(1));
      server.getOutputStream().write(new byte[100]);
      proxy.blackhole(Direction.DOWNSTREAM);
      proxy.latency(Direction.DOWNSTREAM, Duration.ZERO);
      await(() -> proxy.bytesDropped(Direction.DOWNSTREAM) == 100, PROMPTLY, "in-flight drop");

      proxy.heal();
      server.getOutputStream().write(ascii("after"));
      assertThat(readExactly(client.getInputStream(), 5)).isEqualTo(ascii("after"));
    }
  }

  @Test
  @SuppressWarnings("try") // the server side closes inside the try: its FIN is what is tested
  void finSentDuringBlackholeArrivesAfterHeal() throws Exception {
    try (FaultProxy proxy = FaultProxy.start(tap.address());
        Socket client = connect(proxy.address());
        Socket server = tap.next()) {
      proxy.blackhole(Direction.values());
      client.shutdownOutput();
      server.getOutputStream().write(ascii("lost"));
      await(() -> proxy.bytesDropped(Direction.DOWNSTREAM) == 4, PROMPTLY, "drop");
      proxy.heal();
      assertThat(server.getInputStream().read()).isEqualTo(-1);
      server.getOutputStream().write(ascii("bye"));
      server.close();
      assertThat(client.getInputStream().readAllBytes()).isEqualTo(ascii("bye"));
      await(() -> proxy.currentConnections() == 0, PROMPTLY, "connection gone");
    }
  }

  @Test
  void resetGivesBothPeersAConnectionReset() throws Exception {
    try (FaultProxy proxy = FaultProxy.start(tap.address());
        Socket client = connect(proxy.address());
        Socket server = tap.next()) {
      client.getOutputStream().write(1);
      assertThat(server.getInputStream().read()).isEqualTo(1);

      long start = System.nanoTime();
      proxy.reset();
      assertThat(proxy.currentConnections()).isZero();
      assertThatThrownBy(() -> client.getInputStream().read())
          .isInstanceOf(IOException.class)
          .isNotInstanceOf(SocketTimeoutException.class)
          .hasMessageContaining("reset");
      assertThatThrownBy(() -> server.getInputStream().read())
          .isInstanceOf(IOException.class)
          .isNotInstanceOf(SocketTimeoutException.class);
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));

      // The proxy itself carries on.
      try (Socket again = connect(proxy.address())) {
        again.getOutputStream().write(2);
        assertThat(tap.next().getInputStream().read()).isEqualTo(2);
      }
    }
  }

  @Test
  void refusingClosesNewConnectionsButKeepsExistingOnes() throws Exception {
    try (FaultProxy proxy = FaultProxy.start(echo.address());
        Socket existing = connect(proxy.address())) {
      rtts(existing, 1);
      proxy.refuseNewConnections(true);
      try (Socket refused = connect(proxy.address())) {
        assertClosedByPeer(refused.getInputStream());
      }
      assertThat(proxy.connectionsRefused()).isEqualTo(1);
      assertThat(proxy.connectionsAccepted()).isEqualTo(2);
      rtts(existing, 1);

      proxy.refuseNewConnections(false);
      try (Socket accepted = connect(proxy.address())) {
        rtts(accepted, 1);
      }
    }
  }

  @Test
  void unreachableTargetResetsTheClient() throws Exception {
    var closedPort = tap.address();
    tap.close();
    try (FaultProxy proxy = FaultProxy.start(closedPort);
        Socket client = connect(proxy.address())) {
      assertClosedByPeer(client.getInputStream());
      await(() -> proxy.currentConnections() == 0, PROMPTLY, "connection gone");
    }
  }

  @Test
  void countersFollowTraffic() throws Exception {
    try (FaultProxy proxy = FaultProxy.start(echo.address())) {
      try (Socket client = connect(proxy.address())) {
        byte[] payload = randomBytes(1000, 4);
        assertThat(echoThrough(client, payload)).isEqualTo(crc(payload));
        await(() -> proxy.bytesForwarded(Direction.DOWNSTREAM) == 1000, PROMPTLY, "count");
        assertThat(proxy.bytesForwarded(Direction.UPSTREAM)).isEqualTo(1000);
        assertThat(proxy.connectionsAccepted()).isEqualTo(1);
        assertThat(proxy.currentConnections()).isEqualTo(1);
      }
      await(() -> proxy.currentConnections() == 0, PROMPTLY, "connection gone");
      assertThat(proxy.connectionsAccepted()).isEqualTo(1);
      assertThat(proxy.connectionsRefused()).isZero();
      assertThat(proxy.bytesDropped(Direction.UPSTREAM)).isZero();
      assertThat(proxy.bytesDropped(Direction.DOWNSTREAM)).isZero();
    }
  }

  @Test
  void manyConcurrentConnectionsStayIntact() throws Exception {
    int clients = 64;
    try (FaultProxy proxy = FaultProxy.start(echo.address());
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      proxy.latency(Duration.ofMillis(2));
      List<Future<Boolean>> results = new ArrayList<>();
      for (int i = 0; i < clients; i++) {
        byte[] payload = randomBytes(128 * 1024, 100 + i);
        Callable<Boolean> task =
            () -> {
              try (Socket client = connect(proxy.address())) {
                return echoThrough(client, payload) == crc(payload);
              }
            };
        results.add(pool.submit(task));
      }
      for (Future<Boolean> result : results) {
        assertThat(result.get(20, TimeUnit.SECONDS)).isTrue();
      }
      assertThat(proxy.connectionsAccepted()).isEqualTo(clients);
      await(
          () -> proxy.bytesForwarded(Direction.UPSTREAM) == clients * 128L * 1024,
          PROMPTLY,
          "upstream count");
      await(() -> proxy.currentConnections() == 0, PROMPTLY, "all connections gone");
    }
  }

  @Test
  void closeResetsConnectionsAndStopsListening() throws Exception {
    FaultProxy proxy = FaultProxy.start(echo.address());
    try (Socket client = connect(proxy.address())) {
      rtts(client, 1);
      proxy.close();
      assertThat(proxy.currentConnections()).isZero();
      assertThatThrownBy(() -> client.getInputStream().read())
          .isInstanceOf(IOException.class)
          .isNotInstanceOf(SocketTimeoutException.class);
      assertThatThrownBy(() -> connect(proxy.address()).close()).isInstanceOf(IOException.class);
    }
  }

  @Test
  void controlsRejectNonsense() throws Exception {
    try (FaultProxy proxy = FaultProxy.start(echo.address())) {
      assertThatThrownBy(() -> proxy.latency(Duration.ofMillis(-1)))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> proxy.latency(Duration.ofDays(2)))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> proxy.bandwidth(-5)).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> proxy.blackhole()).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> proxy.bandwidth(null, 1)).isInstanceOf(NullPointerException.class);
    }
  }

  /** Sends {@code payload} through an echo and returns the CRC32C of what came back. */
  private static long echoThrough(Socket client, byte[] payload) throws Exception {
    try (ExecutorService writer = Executors.newVirtualThreadPerTaskExecutor()) {
      Future<?> sent =
          writer.submit(
              () -> {
                client.getOutputStream().write(payload);
                return null;
              });
      byte[] back = readExactly(client.getInputStream(), payload.length);
      sent.get(10, TimeUnit.SECONDS);
      return crc(back);
    }
  }

  /** Round-trip times in milliseconds of {@code count} one-byte echoes, sorted. */
  private static List<Long> rtts(Socket client, int count) throws IOException {
    List<Long> millis = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      long start = System.nanoTime();
      client.getOutputStream().write(i);
      assertThat(client.getInputStream().read()).isEqualTo(i);
      millis.add((System.nanoTime() - start) / 1_000_000);
    }
    millis.sort(null);
    return millis;
  }

  private static void assertClosedByPeer(InputStream in) {
    try {
      assertThat(in.read()).isEqualTo(-1);
    } catch (IOException e) {
      assertThat(e).isNotInstanceOf(SocketTimeoutException.class);
    }
  }

  private static byte[] randomBytes(int n, long seed) {
    byte[] data = new byte[n];
    new Random(seed).nextBytes(data);
    return data;
  }

  private static long crc(byte[] data) {
    CRC32C crc = new CRC32C();
    crc.update(data);
    return crc.getValue();
  }

  private static byte[] ascii(String s) {
    return s.getBytes(US_ASCII);
  }
}
