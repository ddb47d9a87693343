package io.duet.nbd;

import java.io.EOFException;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * One client connection, run on its own platform thread: negotiation, then transmission. Platform,
 * not virtual: this thread is the connection's socket reader, and a blocking read on a platform
 * thread is woken by the kernel directly, where a virtual thread parks, registers with the poller
 * and waits to be rescheduled — a cost every request at queue depth 1 pays on its critical path.
 */
final class Connection implements Runnable {
  private static final System.Logger LOG = System.getLogger(Connection.class.getName());

  private final Socket socket;
  private final ExportCatalog catalog;
  private final NbdSettings settings;
  private final BufferPool buffers;
  private final LongSupplier nanoClock;
  private final Runnable onClose;
  private final Wire wire;
  private volatile String exportName;

  Connection(
      SocketChannel channel,
      ExportCatalog catalog,
      NbdSettings settings,
      BufferPool buffers,
      LongSupplier nanoClock,
      Runnable onClose)
      throws IOException {
    this.socket = channel.socket();
    this.catalog = catalog;
    this.settings = settings;
    this.buffers = buffers;
    this.nanoClock = nanoClock;
    this.onClose = onClose;
    this.wire = new Wire(channel);
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
        new Transmission(wire.link(), session.get(), settings, buffers, nanoClock).run();
      }
    } catch (Negotiation.ProtocolViolation e) {
      LOG.log(Level.INFO, "NBD client {0}: {1}; closing the connection", peer, e.getMessage());
    } catch (EOFException | SocketException | ClosedChannelException e) {
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
