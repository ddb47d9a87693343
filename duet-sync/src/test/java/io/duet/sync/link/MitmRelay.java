package io.duet.sync.link;

import io.duet.sync.peering.SiteIdentity;
import io.duet.sync.peering.TlsContexts;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * An attacker between two sites: terminates TLS from the caller with its own certificate, opens its
 * own TLS to the target with the same certificate, and copies the plaintext both ways.
 */
final class MitmRelay implements AutoCloseable {
  private final ServerSocket server;
  private final SSLContext ctx;
  private final LinkSite target;
  private final AtomicLong chunks = new AtomicLong();

  MitmRelay(Path dir, LinkSite target) throws IOException {
    SecureRandom random = new SecureRandom();
    SiteIdentity mallory =
        SiteIdentity.loadOrCreate(dir, "mallory", UUID.randomUUID(), random, Instant.now());
    this.ctx = TlsContexts.context(mallory, TlsContexts.pinned(c -> true), random);
    this.target = target;
    this.server = new ServerSocket(0, 8, java.net.InetAddress.getLoopbackAddress());
    Thread.ofVirtual().start(this::acceptOne);
  }

  String address() {
    return "127.0.0.1:" + server.getLocalPort();
  }

  long relayedMessages() {
    return chunks.get();
  }

  private void acceptOne() {
    try (Socket raw = server.accept();
        SSLSocket front =
            (SSLSocket) ctx.getSocketFactory().createSocket(raw, "a", raw.getPort(), true);
        SSLSocket back =
            (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", target.listener.port())) {
      TlsContexts.configure(front, true, TlsContexts.ALPN_PAIR);
      TlsContexts.configure(back, false, TlsContexts.ALPN_PAIR);
      front.startHandshake();
      back.startHandshake();
      Thread up = Thread.ofVirtual().start(() -> pump(front, back));
      pump(back, front);
      up.join();
    } catch (IOException | InterruptedException ignored) {
      // The attack ends when either side hangs up.
    }
  }

  private void pump(Socket from, Socket to) {
    byte[] buf = new byte[4096];
    try {
      InputStream in = from.getInputStream();
      OutputStream out = to.getOutputStream();
      int n;
      while ((n = in.read(buf)) > 0) {
        chunks.incrementAndGet();
        out.write(buf, 0, n);
        out.flush();
      }
    } catch (IOException ignored) {
      // closed
    } finally {
      try {
        to.close();
        from.close();
      } catch (IOException ignored) {
        // closed
      }
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
