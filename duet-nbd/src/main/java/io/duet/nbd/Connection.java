package io.duet.nbd;

import java.io.EOFException;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.util.Optional;

/** One client connection, run on its own virtual thread: negotiation, then transmission. */
final class Connection implements Runnable {
  private static final System.Logger LOG = System.getLogger(Connection.class.getName());

  private final Socket socket;
  private final ExportCatalog catalog;
  private final NbdSettings settings;
  private final Runnable onClose;
  private final Wire wire;
  private volatile String exportName;

  Connection(Socket socket, ExportCatalog catalog, NbdSettings settings, Runnable onClose)
      throws IOException {
    this.socket = socket;
    this.catalog = catalog;
    this.settings = settings;
    this.onClose = onClose;
    this.wire = new Wire(socket);
  }

  NbdServer.ConnectionInfo info() {
    return new NbdServer.ConnectionInfo(
        (InetSocketAddress) socket.getRemoteSocketAddress(),
        Optional.ofNullable(exportName),
        wire.tls());
  }

  @Override
  public void run() {
    String peer = String.valueOf(socket.getRemoteSocketAddress());
    try {
      socket.setTcpNoDelay(true);
      socket.setSoTimeout(settings.handshakeTimeoutMs());
      Optional<Session> session =
          new Negotiation(wire, catalog, settings, socket.getInetAddress()).run();
      if (session.isPresent()) {
        exportName = session.get().export().name();
        wire.socket().setSoTimeout(0); // idle connections are normal once attached
        new Transmission(wire, session.get(), settings).run();
      }
    } catch (Negotiation.ProtocolViolation e) {
      LOG.log(Level.INFO, "NBD client {0}: {1}; closing the connection", peer, e.getMessage());
    } catch (EOFException | SocketException e) {
      LOG.log(Level.DEBUG, "NBD client {0} went away: {1}", peer, e.toString());
    } catch (IOException e) {
      LOG.log(Level.INFO, "NBD client {0}: {1}", peer, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      // A bug must cost one connection, never the server.
      LOG.log(Level.WARNING, "NBD client " + peer + ": unexpected failure", e);
    } finally {
      wire.close();
      onClose.run();
    }
  }

  void close() {
    wire.close();
  }
}
