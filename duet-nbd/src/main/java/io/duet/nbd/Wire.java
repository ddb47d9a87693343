package io.duet.nbd;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.channels.SocketChannel;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSocket;

/**
 * The byte streams of one connection: the plain socket at first, the TLS socket layered on it after
 * NBD_OPT_STARTTLS. Negotiation reads and writes go through the current streams; the transmission
 * phase takes a {@link Link}, which for plain TCP bypasses the streams and uses the channel itself.
 */
final class Wire implements AutoCloseable {
  private static final int BUFFER_BYTES = 64 << 10;
  private static final String[] TLS_PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

  private final SocketChannel channel;
  private final Socket plain;
  private volatile Socket current;
  private DataInputStream in;
  private Buffered buffered;
  private OutputStream out;
  private Optional<String> peerSubject = Optional.empty();

  /** Wraps a connected channel, which must be in blocking mode. */
  Wire(SocketChannel channel) throws IOException {
    this.channel = channel;
    this.plain = channel.socket();
    this.current = plain;
    streams(plain);
  }

  private void streams(Socket s) throws IOException {
    buffered = new Buffered(s);
    in = new DataInputStream(buffered);
    out = new BufferedOutputStream(s.getOutputStream(), BUFFER_BYTES);
  }

  DataInputStream in() {
    return in;
  }

  OutputStream out() {
    return out;
  }

  Socket socket() {
    return current;
  }

  /**
   * The transmission-phase link. Bytes the negotiation streams buffered but did not consume (a
   * client may pipeline its first request behind NBD_OPT_GO) are handed over to it. Call once,
   * after negotiation; the streams must not be used afterwards.
   */
  Link link() throws IOException {
    if (tls()) {
      Buffered b = buffered;
      return new StreamLink(in, out, () -> b.pending() > 0, this::close);
    }
    out.flush();
    byte[] leftover = in.readNBytes(buffered.pending()); // all buffered: does not block
    return new ChannelLink(channel, leftover);
  }

  boolean tls() {
    return current instanceof SSLSocket;
  }

  /** The subject of the client's verified certificate, when TLS with a client certificate is up. */
  Optional<String> peerSubject() {
    return peerSubject;
  }

  /**
   * Runs the server side of a TLS handshake over the plain socket; afterwards every byte goes
   * through TLS. The client sends nothing between our ACK and its ClientHello, so bytes already
   * buffered from the plain stream would be a protocol violation.
   */
  void startTls(SSLContext context, boolean needClientAuth) throws IOException {
    // Only bytes already pulled into our buffer matter: the ClientHello may well be waiting in
    // the socket already, and the TLS socket reads it from there.
    if (buffered.pending() > 0) {
      throw new IOException("client sent data after NBD_OPT_STARTTLS before the TLS handshake");
    }
    SSLSocket tls =
        (SSLSocket)
            context
                .getSocketFactory()
                .createSocket(
                    plain, plain.getInetAddress().getHostAddress(), plain.getPort(), true);
    tls.setUseClientMode(false);
    tls.setEnabledProtocols(TLS_PROTOCOLS);
    tls.setNeedClientAuth(needClientAuth);
    tls.setSoTimeout(plain.getSoTimeout());
    tls.startHandshake();
    current = tls;
    streams(tls);
    try {
      peerSubject = Optional.of(tls.getSession().getPeerPrincipal().getName());
    } catch (SSLPeerUnverifiedException e) {
      peerSubject = Optional.empty(); // no client certificate: allowed unless needClientAuth
    }
  }

  /** A buffered socket stream that can tell how many bytes it holds that nobody has read yet. */
  private static final class Buffered extends BufferedInputStream {
    // BUFFER_BYTES bounds pending(), so the leftover handed to a ChannelLink always fits.
    Buffered(Socket s) throws IOException {
      super(s.getInputStream(), BUFFER_BYTES);
    }

    synchronized int pending() {
      return count - pos;
    }
  }

  @Override
  public void close() {
    try {
      current.close();
    } catch (IOException e) {
      // Closing a socket that failed already: nothing left to release.
    }
    try {
      plain.close();
    } catch (IOException e) {
      // As above.
    }
  }
}
