package io.duet.sync.link;

import io.duet.sync.peering.PairingResponder;
import io.duet.sync.peering.PeerRecord;
import io.duet.sync.peering.PeerStore;
import io.duet.sync.peering.SiteIdentity;
import io.duet.sync.peering.TlsContexts;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * The site's replication port. Accepts TCP connections, runs the TLS handshake with a bounded
 * number in flight, and routes by ALPN: pairing connections to the {@link PairingResponder}, peer
 * links (pinned certificate of a paired site) to that peer's {@link TlsTransport}. Anything else is
 * closed; a bad connection never stops the listener.
 */
public final class ReplicationPortListener implements AutoCloseable {
  private static final int MAX_HANDSHAKES = 32;

  /** PBKDF2 on a loaded machine can take a while; a pairing gets more time than a link hello. */
  private static final int PAIRING_TIMEOUT_MS = 30_000;

  private final ServerSocket server;
  private final SSLContext tls;
  private final PeerStore peers;
  private final PairingResponder pairing;
  private final Function<UUID, Optional<TlsTransport>> links;
  private final LinkSettings settings;
  private final Semaphore handshakes = new Semaphore(MAX_HANDSHAKES);
  private final AtomicLong refused = new AtomicLong();
  private final Thread acceptor;
  private volatile boolean closed;

  private ReplicationPortListener(
      ServerSocket server,
      SSLContext tls,
      PeerStore peers,
      PairingResponder pairing,
      Function<UUID, Optional<TlsTransport>> links,
      LinkSettings settings) {
    this.server = server;
    this.tls = tls;
    this.peers = peers;
    this.pairing = pairing;
    this.links = links;
    this.settings = settings;
    this.acceptor =
        Thread.ofVirtual().name("replication-accept-" + server.getLocalPort()).start(this::run);
  }

  /**
   * Binds {@code bind} and starts accepting.
   *
   * @param links finds the transport of a paired site by UUID (empty: not linked, connection
   *     closed)
   */
  public static ReplicationPortListener start(
      InetSocketAddress bind,
      SiteIdentity me,
      PeerStore peers,
      PairingResponder pairing,
      Function<UUID, Optional<TlsTransport>> links,
      LinkSettings settings,
      SecureRandom random)
      throws IOException {
    Objects.requireNonNull(peers, "peers");
    SSLContext ctx =
        TlsContexts.context(
            me,
            new RoutingTrust(c -> peers.byFingerprint(SiteIdentity.fingerprint(c)).isPresent()),
            random);
    ServerSocket server = new ServerSocket();
    try {
      server.setReuseAddress(true);
      server.bind(bind, 128);
    } catch (IOException e) {
      server.close();
      throw new IOException(
          "cannot listen on replication address " + bind + ": " + e.getMessage(), e);
    }
    return new ReplicationPortListener(
        server,
        ctx,
        peers,
        Objects.requireNonNull(pairing, "pairing"),
        Objects.requireNonNull(links, "links"),
        Objects.requireNonNull(settings, "settings"));
  }

  public int port() {
    return server.getLocalPort();
  }

  public InetSocketAddress address() {
    return new InetSocketAddress(server.getInetAddress(), server.getLocalPort());
  }

  /** Connections closed without being routed (bad TLS, unknown certificate, overload, garbage). */
  public long refusedConnections() {
    return refused.get();
  }

  private void run() {
    while (!closed) {
      Socket s;
      try {
        s = server.accept();
      } catch (IOException e) {
        if (closed) {
          return;
        }
        continue; // e.g. too many open files: keep serving the connections we have
      }
      if (!handshakes.tryAcquire()) {
        refused.incrementAndGet();
        closeQuietly(s);
        continue;
      }
      Thread.ofVirtual().name("replication-conn").start(() -> serve(s));
    }
  }

  private void serve(Socket raw) {
    boolean handedOff = false;
    try {
      raw.setSoTimeout(settings.handshakeTimeoutMs());
      SSLSocket s =
          (SSLSocket)
              tls.getSocketFactory()
                  .createSocket(raw, raw.getInetAddress().getHostAddress(), raw.getPort(), true);
      TlsContexts.configure(s, true, TlsContexts.ALPN_LINK, TlsContexts.ALPN_PAIR);
      s.startHandshake();
      String alpn = s.getApplicationProtocol();
      if (TlsContexts.ALPN_PAIR.equals(alpn)) {
        s.setSoTimeout(PAIRING_TIMEOUT_MS);
        pairing.handle(s);
        return;
      }
      if (!TlsContexts.ALPN_LINK.equals(alpn)) {
        refused.incrementAndGet();
        return;
      }
      // The trust manager already checked the pin; check again here, where the route is chosen.
      Optional<PeerRecord> peer = pairedPeer(s.getSession().getPeerCertificates());
      Optional<TlsTransport> link = peer.flatMap(p -> links.apply(p.siteId()));
      if (link.isEmpty()) {
        refused.incrementAndGet();
        return;
      }
      handedOff = true;
      handshakes.release();
      link.get().acceptIncoming(s);
    } catch (IOException e) {
      refused.incrementAndGet();
    } finally {
      if (!handedOff) {
        handshakes.release();
        closeQuietly(raw);
      }
    }
  }

  private Optional<PeerRecord> pairedPeer(Certificate[] chain) {
    if (chain.length != 1 || !(chain[0] instanceof X509Certificate cert)) {
      return Optional.empty();
    }
    return peers.byFingerprint(SiteIdentity.fingerprint(cert));
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // Nothing to do about a socket that cannot even close.
    }
  }

  @Override
  public void close() {
    closed = true;
    try {
      server.close();
    } catch (IOException ignored) {
      // Closing the server socket only fails if it is already closed.
    }
    acceptor.interrupt();
  }

  /** Whether the accept loop ended because of {@link #close} (tests). */
  boolean closed() {
    return closed && !acceptor.isAlive();
  }
}
