package io.duet.sync.link;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.duet.sync.peering.PeerRecord;
import io.duet.sync.peering.SiteIdentity;
import io.duet.sync.peering.TlsContexts;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Arrays;
import java.util.Random;
import java.util.UUID;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TlsTransportTest {
  @TempDir Path dir;
  LinkSite a;
  LinkSite b;
  PeerRecord bAtA;
  PeerRecord aAtB;

  @BeforeEach
  void pairedSites() throws Exception {
    a = new LinkSite(dir.resolve("a"), "alpha", new UUID(1, 1));
    b = new LinkSite(dir.resolve("b"), "beta", new UUID(2, 2));
    bAtA = a.pairWith(b, b.invitations.create().passphrase());
    aAtB = b.store.byName("alpha").orElseThrow();
  }

  @AfterEach
  void close() {
    a.close();
    b.close();
  }

  @Test
  void framesFlowBothWaysInOrderAndUnchanged() throws Exception {
    LinkSite.Recorder ra = new LinkSite.Recorder();
    LinkSite.Recorder rb = new LinkSite.Recorder();
    TlsTransport ta = a.link(bAtA, ra);
    TlsTransport tb = b.link(aAtB, rb);
    LinkSite.await("both up", () -> ta.isUp() && tb.isUp());
    LinkSite.await("transitions settle", () -> ra.ups == ra.downs + 1 && rb.ups == rb.downs + 1);

    Random random = new Random(42);
    byte[][] toB = new byte[500][];
    byte[][] toA = new byte[500][];
    for (int i = 0; i < toB.length; i++) {
      toB[i] = randomFrame(random, i);
      toA[i] = randomFrame(random, i);
    }
    int before = rb.frames.size();
    for (int i = 0; i < toB.length; i++) {
      sendRetrying(ta, toB[i]);
      sendRetrying(tb, toA[i]);
    }
    LinkSite.await("all frames", () -> rb.frames.size() - before >= 500 && ra.frames.size() >= 500);
    for (int i = 0; i < 500; i++) {
      assertThat(rb.frames.get(before + i)).isEqualTo(toB[i]);
      assertThat(ra.frames.get(ra.frames.size() - 500 + i)).isEqualTo(toA[i]);
    }
    assertThat(ra.history()).startsWith("up");
  }

  @Test
  void simultaneousDialsConvergeOnOneConnection() throws Exception {
    for (int round = 0; round < 5; round++) {
      LinkSite.Recorder ra = new LinkSite.Recorder();
      LinkSite.Recorder rb = new LinkSite.Recorder();
      TlsTransport ta = a.link(bAtA, ra);
      TlsTransport tb = b.link(aAtB, rb);
      LinkSite.await("both up", () -> ta.isUp() && tb.isUp());
      // Once settled, a frame each way proves both ends use the same connection.
      byte[] ping = {(byte) round, 1};
      LinkSite.await("ping a->b", () -> ta.send(ping) && waitFrame(rb, ping));
      LinkSite.await("ping b->a", () -> tb.send(ping) && waitFrame(ra, ping));
      assertThat(ra.ups).isEqualTo(ra.downs + 1);
      assertThat(rb.ups).isEqualTo(rb.downs + 1);
      ta.close();
      tb.close();
      assertThat(ra.history()).endsWith("down");
      assertThat(rb.history()).endsWith("down");
      assertThat(ra.ups).isEqualTo(ra.downs);
    }
  }

  @Test
  void aReceiverInstalledAfterTheLinkCameUpIsToldSo() throws Exception {
    LinkSite.Recorder rb = new LinkSite.Recorder();
    b.link(aAtB, rb);
    TlsTransport ta =
        new TlsTransport(
            a.identity, bAtA, LinkSite.FAST, Sleeper.SYSTEM, a.random, LinkObserver.NONE);
    a.links.put(bAtA.siteId(), ta);
    ta.start();
    LinkSite.await("up without a receiver", ta::isUp);
    LinkSite.Recorder late = new LinkSite.Recorder();
    ta.setReceiver(late);
    assertThat(late.history()).isEqualTo("up");
    LinkSite.await("frame", () -> a.links.get(bAtA.siteId()) == ta && sendTo(b, late));
  }

  private boolean sendTo(LinkSite site, LinkSite.Recorder r) {
    TlsTransport t = site.links.get(a.identity.siteId());
    return t != null && t.send(new byte[] {5}) && waitFrame(r, new byte[] {5});
  }

  @Test
  void failedDialsBackOffExponentiallyUpToTheCap() throws Exception {
    int port;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      port = s.getLocalPort(); // closed again: dials are refused at once
    }
    java.util.List<Long> pauses = new java.util.concurrent.CopyOnWriteArrayList<>();
    java.util.concurrent.Semaphore allowed = new java.util.concurrent.Semaphore(0);
    Sleeper recording =
        ms -> {
          pauses.add(ms);
          allowed.acquire(); // the test lets each retry happen
        };
    TlsTransport t =
        new TlsTransport(
            a.identity,
            bAtA.withAddress("127.0.0.1:" + port),
            LinkSite.FAST,
            recording,
            a.random,
            LinkObserver.NONE);
    try {
      t.start();
      for (int i = 0; i < 6; i++) {
        int n = i + 1;
        LinkSite.await("pause " + n, () -> pauses.size() >= n);
        allowed.release();
      }
      assertThat(java.util.List.copyOf(pauses).subList(0, 6))
          .containsExactly(20L, 40L, 80L, 160L, 200L, 200L);
      assertThat(t.lastError()).contains("dial");
      assertThat(t.isUp()).isFalse();
    } finally {
      t.close();
    }
  }

  @Test
  void aRestartedPeerIsRedialed() throws Exception {
    LinkSite.Recorder ra = new LinkSite.Recorder();
    LinkSite.Recorder rb = new LinkSite.Recorder();
    TlsTransport ta = a.link(bAtA, ra);
    TlsTransport tb = b.link(aAtB, rb);
    LinkSite.await("both up", () -> ta.isUp() && tb.isUp());
    ta.close();
    LinkSite.await("b sees it down", () -> !tb.isUp());
    assertThat(tb.send(new byte[] {1})).isFalse();
    LinkSite.Recorder ra2 = new LinkSite.Recorder();
    TlsTransport ta2 = a.link(bAtA, ra2);
    LinkSite.await("up again", () -> ta2.isUp() && tb.isUp());
    LinkSite.await(
        "frame after reconnect", () -> tb.send(new byte[] {7}) && waitFrame(ra2, new byte[] {7}));
  }

  @Test
  void oversizeAndCorruptFramesCloseTheConnectionButNotTheListener() throws Exception {
    LinkSite.Recorder rb = new LinkSite.Recorder();
    TlsTransport tb = b.link(aAtB, rb);
    for (int kind = 0; kind < 3; kind++) {
      try (RawPeer raw = RawPeer.connect(a.identity, b)) {
        assertThat(raw.hello(a.identity.siteId(), b.identity.siteId())).isEqualTo(LinkHello.ACCEPT);
        LinkSite.await("b up", tb::isUp);
        switch (kind) {
          case 0 -> { // a length beyond the limit: must not be allocated
            raw.out.writeInt(Integer.MAX_VALUE);
            raw.out.writeInt(0);
          }
          case 1 -> { // a negative length
            raw.out.writeInt(-5);
            raw.out.writeInt(0);
          }
          default -> { // a CRC that does not match
            raw.out.writeInt(3);
            raw.out.writeInt(12345);
            raw.out.write(new byte[] {1, 2, 3});
          }
        }
        raw.out.flush();
        LinkSite.await("b down", () -> !tb.isUp());
        assertThat(tb.lastError()).contains("protocol error");
        assertThat(raw.readsEof()).isTrue();
      }
    }
    assertThat(rb.frames).isEmpty();
    assertThat(rb.history()).isEqualTo("up,down,up,down,up,down");
    // The port still serves a real peer.
    LinkSite.Recorder ra = new LinkSite.Recorder();
    TlsTransport ta = a.link(bAtA, ra);
    LinkSite.await("real link up", () -> ta.isUp() && tb.isUp());
  }

  @Test
  void aSilentPeerIsDeclaredDownAfterTheIdleTimeout() throws Exception {
    LinkSite.Recorder rb = new LinkSite.Recorder();
    TlsTransport tb = b.link(aAtB, rb);
    try (RawPeer raw = RawPeer.connect(a.identity, b)) {
      assertThat(raw.hello(a.identity.siteId(), b.identity.siteId())).isEqualTo(LinkHello.ACCEPT);
      LinkSite.await("b up", tb::isUp);
      long start = System.nanoTime();
      LinkSite.await("b down", () -> !tb.isUp());
      long ms = (System.nanoTime() - start) / 1_000_000;
      assertThat(ms).isBetween(LinkSite.FAST.idleTimeoutMs() / 2, 10_000L);
      assertThat(tb.lastError()).contains("nothing received");
    }
  }

  @Test
  void sendReturnsFalseWhenTheQueueIsFull() throws Exception {
    TlsTransport tb = b.link(aAtB, new LinkSite.Recorder());
    try (RawPeer raw = RawPeer.connect(a.identity, b)) {
      assertThat(raw.hello(a.identity.siteId(), b.identity.siteId())).isEqualTo(LinkHello.ACCEPT);
      LinkSite.await("b up", tb::isUp);
      Thread keepalive = Thread.ofVirtual().start(raw::keepAliveWithoutReading);
      byte[] big = new byte[64 * 1024];
      int accepted = 0;
      while (tb.send(big)) {
        accepted++;
        assertThat(accepted).isLessThan(100_000);
      }
      assertThat(accepted).isGreaterThanOrEqualTo(LinkSite.FAST.sendQueueFrames());
      assertThat(tb.isUp()).isTrue();
      keepalive.interrupt();
    }
    assertThatThrownBy(() -> tb.send(new byte[0])).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> tb.send(new byte[LinkSite.FAST.maxFrameBytes() + 1]))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void anUnknownCertificateCannotConnectToThePeerLink() throws Exception {
    TlsTransport tb = b.link(aAtB, new LinkSite.Recorder());
    SiteIdentity stranger =
        SiteIdentity.generate("alpha", a.identity.siteId(), new SecureRandom(), Instant.now());
    long refusedBefore = b.listener.refusedConnections();
    assertThatThrownBy(
            () -> {
              try (RawPeer raw = RawPeer.connect(stranger, b)) {
                raw.hello(a.identity.siteId(), b.identity.siteId());
              }
            })
        .isInstanceOf(IOException.class);
    LinkSite.await("refused", () -> b.listener.refusedConnections() > refusedBefore);
    assertThat(tb.isUp()).isFalse();
    // And a paired certificate claiming to be someone else in its hello is rejected too.
    try (RawPeer raw = RawPeer.connect(a.identity, b)) {
      assertThatThrownBy(() -> raw.hello(new UUID(9, 9), b.identity.siteId()))
          .isInstanceOf(IOException.class);
    }
    assertThat(tb.isUp()).isFalse();
  }

  @Test
  void aSiteDoesNotTrustAnUnpairedServer() throws Exception {
    // b's record of a points at a site with another certificate: the dial must fail in TLS.
    LinkSite c = new LinkSite(dir.resolve("c"), "gamma", new UUID(3, 3));
    try {
      PeerRecord wrong = aAtB.withAddress(c.address());
      LinkSite.Recorder rb = new LinkSite.Recorder();
      TlsTransport tb = b.link(wrong, rb);
      LinkSite.await("dial failed", () -> !tb.lastError().isEmpty());
      assertThat(tb.isUp()).isFalse();
      assertThat(tb.lastError()).containsIgnoringCase("dial");
    } finally {
      c.close();
    }
  }

  private static boolean waitFrame(LinkSite.Recorder r, byte[] frame) {
    for (int i = 0; i < 100; i++) {
      if (r.frames.stream().anyMatch(f -> Arrays.equals(f, frame))) {
        return true;
      }
      try {
        Thread.sleep(2);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return false;
  }

  private static void sendRetrying(TlsTransport t, byte[] frame) throws InterruptedException {
    LinkSite.await("queue space", () -> t.send(frame));
  }

  private static byte[] randomFrame(Random random, int i) {
    int size = 1 + (i % 50 == 0 ? random.nextInt(200_000) : random.nextInt(300));
    byte[] f = new byte[size];
    random.nextBytes(f);
    return f;
  }

  /** A hand-driven link client with a real (or stranger's) certificate, for hostile input. */
  static final class RawPeer implements AutoCloseable {
    final SSLSocket socket;
    final DataOutputStream out;
    final DataInputStream in;

    private RawPeer(SSLSocket socket) throws IOException {
      this.socket = socket;
      this.out = new DataOutputStream(socket.getOutputStream());
      this.in = new DataInputStream(socket.getInputStream());
    }

    static RawPeer connect(SiteIdentity as, LinkSite target) throws IOException {
      SSLSocket s =
          (SSLSocket)
              TlsContexts.context(as, TlsContexts.pinned(c -> true), new SecureRandom())
                  .getSocketFactory()
                  .createSocket("127.0.0.1", target.listener.port());
      TlsContexts.configure(s, false, TlsContexts.ALPN_LINK);
      s.setSoTimeout(10_000);
      try {
        s.startHandshake();
      } catch (SSLHandshakeException e) {
        s.close();
        throw e;
      }
      return new RawPeer(s);
    }

    /** Sends a hello and returns the reply byte; IOException if the acceptor just hangs up. */
    byte hello(UUID from, UUID to) throws IOException {
      FrameIo.write(out, new LinkHello(from, to).encode());
      out.flush();
      byte[] reply = FrameIo.read(in, 16);
      return reply[0];
    }

    boolean readsEof() {
      try {
        while (true) {
          FrameIo.read(in, 1 << 20);
        }
      } catch (IOException e) {
        return true;
      }
    }

    void keepAliveWithoutReading() {
      try {
        while (!Thread.currentThread().isInterrupted()) {
          synchronized (out) {
            FrameIo.write(out, FrameIo.KEEPALIVE);
            out.flush();
          }
          Thread.sleep(50);
        }
      } catch (IOException | InterruptedException e) {
        // test over
      }
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }
}
