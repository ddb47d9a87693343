package io.duet.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.duet.sync.Transport;
import io.duet.sync.link.LinkObserver;
import io.duet.sync.link.LinkSettings;
import io.duet.sync.link.ReplicationPortListener;
import io.duet.sync.link.Sleeper;
import io.duet.sync.link.TlsTransport;
import io.duet.sync.peering.Invitations;
import io.duet.sync.peering.PairingClient;
import io.duet.sync.peering.PairingResponder;
import io.duet.sync.peering.PeerRecord;
import io.duet.sync.peering.PeerStore;
import io.duet.sync.peering.SiteIdentity;
import io.duet.testkit.proxy.Direction;
import io.duet.testkit.proxy.FaultProxy;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The TLS peer link through the fault proxy, for real: site A dials site B only through the proxy
 * (B knows no address for A, so it never dials around it). A blackhole must take the link down on
 * both sides within the idle timeout, and healing or a reset must bring it back by itself.
 */
class PeerLinkFaultTest {
  /** Idle 800 ms with a keepalive every 100 ms; redial backoff 20..200 ms; handshake 1 s. */
  static final LinkSettings SETTINGS =
      new LinkSettings(1 << 20, 256, 100, 800, 1_000, 1_000, 20, 200);

  @TempDir Path dir;
  final SecureRandom random = new SecureRandom();
  Site a;
  Site b;
  FaultProxy proxy;
  Recorder ra = new Recorder();
  Recorder rb = new Recorder();
  TlsTransport ta;
  TlsTransport tb;

  /** The parts of a site a link needs, wired as the node wires them. */
  final class Site implements AutoCloseable {
    final SiteIdentity identity;
    final PeerStore store;
    final Invitations invitations =
        new Invitations(Clock.systemUTC(), random, Duration.ofMinutes(15), 5, 10_000);
    final Map<UUID, TlsTransport> links = new ConcurrentHashMap<>();
    final ReplicationPortListener listener;

    Site(String name, UUID id) throws Exception {
      identity = SiteIdentity.loadOrCreate(dir.resolve(name), name, id, random, Instant.now());
      store = PeerStore.open(dir.resolve(name));
      listener =
          ReplicationPortListener.start(
              new InetSocketAddress("127.0.0.1", 0),
              identity,
              store,
              new PairingResponder(identity, store, invitations, random, (r, e) -> {}),
              uuid -> Optional.ofNullable(links.get(uuid)),
              SETTINGS,
              random);
    }

    TlsTransport link(PeerRecord peer, Recorder r) {
      TlsTransport t =
          new TlsTransport(identity, peer, SETTINGS, Sleeper.SYSTEM, random, LinkObserver.NONE);
      t.setReceiver(r);
      links.put(peer.siteId(), t);
      t.start();
      return t;
    }

    @Override
    public void close() {
      links.values().forEach(TlsTransport::close);
      listener.close();
    }
  }

  /** Records link events and frames. */
  static final class Recorder implements Transport.Receiver {
    final List<String> events = new CopyOnWriteArrayList<>();
    final List<byte[]> frames = new CopyOnWriteArrayList<>();

    @Override
    public void onFrame(byte[] frame) {
      frames.add(frame);
    }

    @Override
    public void onLinkUp() {
      events.add("up");
    }

    @Override
    public void onLinkDown() {
      events.add("down");
    }

    String last() {
      return events.isEmpty() ? "" : events.getLast();
    }

    /** Up and down strictly alternate, starting with up: each transition reported once. */
    void assertAlternates() {
      for (int i = 0; i < events.size(); i++) {
        assertThat(events.get(i))
            .as("event %d of %s", i, events)
            .isEqualTo(i % 2 == 0 ? "up" : "down");
      }
    }
  }

  @BeforeEach
  void pairThroughTheProxy() throws Exception {
    a = new Site("alpha", new UUID(1, 1));
    b = new Site("beta", new UUID(2, 2));
    proxy = FaultProxy.start(new InetSocketAddress("127.0.0.1", b.listener.port()));
    String via = "127.0.0.1:" + proxy.port();
    // A advertises no address, so B can only ever answer, never dial around the proxy.
    PeerRecord bAtA =
        new PairingClient(a.identity, a.store, "", random, 10_000)
            .pair(via, b.invitations.create().passphrase());
    assertThat(bAtA.address()).isEqualTo(via);
    PeerRecord aAtB = b.store.byName("alpha").orElseThrow();
    assertThat(aAtB.address()).isEmpty();
    tb = b.link(aAtB, rb);
    ta = a.link(bAtA, ra);
    await("link up", () -> ta.isUp() && tb.isUp());
    roundTrip((byte) 0);
  }

  @AfterEach
  void close() {
    a.close();
    b.close();
    proxy.close();
  }

  @Test
  void blackholeTakesTheLinkDownAndHealingBringsItBack() throws Exception {
    long start = System.nanoTime();
    proxy.blackhole(Direction.UPSTREAM, Direction.DOWNSTREAM);
    await("down on both sides", () -> !ta.isUp() && !tb.isUp());
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    // Detected by the idle timer, not by luck: not before it, and not long after it.
    assertThat(ms).isBetween(SETTINGS.idleTimeoutMs() - 100, SETTINGS.idleTimeoutMs() + 4_000);
    assertThat(ta.lastError() + " " + tb.lastError()).contains("nothing received");
    assertThat(ra.last()).isEqualTo("down");
    assertThat(rb.last()).isEqualTo("down");
    assertThat(ta.send(new byte[] {1})).isFalse();

    proxy.heal();
    await("up again", () -> ta.isUp() && tb.isUp());
    roundTrip((byte) 1);
    ra.assertAlternates();
    rb.assertAlternates();
    assertThat(ra.events).hasSizeGreaterThanOrEqualTo(3);
  }

  @Test
  void aResetIsFollowedByAReconnect() throws Exception {
    for (int i = 1; i <= 3; i++) {
      long ups = ta.linkUps();
      proxy.reset();
      await("reconnected " + ups, () -> ta.linkUps() > ups && ta.isUp() && tb.isUp());
      roundTrip((byte) (10 + i));
    }
    ra.assertAlternates();
    rb.assertAlternates();
    assertThat(ra.events.stream().filter("down"::equals).count()).isEqualTo(3);
  }

  @Test
  void oneWayCutIsDetectedOnBothSides() throws Exception {
    proxy.blackhole(Direction.DOWNSTREAM);
    // B still hears A; A hears nothing and drops the link, which B then sees as a close.
    await("down on both sides", () -> !ta.isUp() && !tb.isUp());
    proxy.heal();
    await("up again", () -> ta.isUp() && tb.isUp());
    roundTrip((byte) 2);
  }

  @Test
  void refusedConnectionsAreRetriedWithBackoffUntilTheyWork() throws Exception {
    proxy.refuseNewConnections(true);
    proxy.reset();
    await("down", () -> !ta.isUp() && !tb.isUp());
    long refusedBefore = proxy.connectionsRefused();
    await("several refused dials", () -> proxy.connectionsRefused() >= refusedBefore + 3);
    assertThat(ta.isUp()).isFalse();
    proxy.refuseNewConnections(false);
    await("up again", () -> ta.isUp() && tb.isUp());
    roundTrip((byte) 3);
  }

  private void roundTrip(byte tag) throws InterruptedException {
    byte[] ping = {tag, 42};
    byte[] pong = {tag, 43};
    await("ping", () -> ta.send(ping));
    await("ping arrives", () -> rb.frames.stream().anyMatch(f -> Arrays.equals(f, ping)));
    await("pong", () -> tb.send(pong));
    await("pong arrives", () -> ra.frames.stream().anyMatch(f -> Arrays.equals(f, pong)));
  }

  static void await(String what, BooleanSupplier c) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!c.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(5);
    }
  }
}
