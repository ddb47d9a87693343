package io.duet.nbd;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * An NBD server (fixed newstyle, structured replies, base:allocation, STARTTLS) serving the exports
 * of an {@link ExportCatalog}. Each listener accepts on a virtual thread; each connection has a
 * platform thread that reads requests and serves the quick ones itself, and a small pool of
 * platform threads on which slow requests overlap. Thread-safe.
 */
public final class NbdServer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(NbdServer.class.getName());

  /** How long {@link #close()} waits for requests in flight to finish. */
  public static final long CLOSE_WAIT_MS = 10_000;

  /**
   * Idle payload buffers kept for reuse across all connections; beyond this, released buffers are
   * freed at once. Enough for a few connections streaming 1 MiB requests at queue depth 8.
   */
  static final long RETAINED_BUFFER_BYTES_MAX = 64L << 20;

  /**
   * One open connection.
   *
   * @param client the client's address
   * @param export the export attached to, empty while negotiating
   * @param tls whether the connection runs over TLS
   */
  public record ConnectionInfo(InetSocketAddress client, Optional<String> export, boolean tls) {}

  private final ExportCatalog catalog;
  private final NbdSettings settings;
  private final List<ServerSocketChannel> listeners = new ArrayList<>();
  private final BufferPool buffers = new BufferPool(RETAINED_BUFFER_BYTES_MAX);
  private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
  private final ReentrantLock drainLock = new ReentrantLock();
  private final Condition drained = drainLock.newCondition();
  private boolean closed;

  public NbdServer(ExportCatalog catalog, NbdSettings settings) {
    this.catalog = Objects.requireNonNull(catalog, "catalog");
    this.settings = Objects.requireNonNull(settings, "settings");
  }

  /** Starts accepting on {@code address} (port 0: a free port) and returns the bound address. */
  public synchronized InetSocketAddress listen(InetSocketAddress address) throws IOException {
    if (closed) {
      throw new IllegalStateException("NBD server is closed");
    }
    ServerSocketChannel server = ServerSocketChannel.open();
    InetSocketAddress bound;
    try {
      server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
      server.bind(address);
      bound = (InetSocketAddress) server.getLocalAddress();
    } catch (IOException e) {
      server.close();
      throw e;
    }
    listeners.add(server);
    Thread.ofVirtual().name("nbd-accept-" + bound.getPort()).start(() -> accept(server));
    return bound;
  }

  /** The addresses being listened on. */
  public synchronized List<InetSocketAddress> addresses() {
    return listeners.stream()
        .map(s -> (InetSocketAddress) s.socket().getLocalSocketAddress())
        .toList();
  }

  private void accept(ServerSocketChannel server) {
    while (server.isOpen()) {
      SocketChannel socket;
      try {
        socket = server.accept();
      } catch (IOException e) {
        if (server.isOpen()) {
          LOG.log(Level.WARNING, "NBD accept on {0} failed: {1}", server, e.toString());
        }
        return;
      }
      if (connections.size() >= settings.maxConnections()) {
        LOG.log(
            Level.WARNING,
            "NBD: {0} connections open, refusing {1}",
            connections.size(),
            socket.socket().getRemoteSocketAddress());
        closeQuietly(socket);
        continue;
      }
      start(socket);
    }
  }

  private void start(SocketChannel socket) {
    Connection[] self = new Connection[1];
    try {
      // The clock only times requests for the inline policy; nothing depends on its value.
      self[0] =
          new Connection(
              socket, catalog, settings, buffers, System::nanoTime, () -> finished(self[0]));
    } catch (IOException e) {
      closeQuietly(socket);
      return;
    }
    connections.add(self[0]);
    synchronized (this) {
      if (closed) {
        self[0].close();
        connections.remove(self[0]);
        return;
      }
    }
    Thread.ofPlatform().daemon().name("nbd-conn").start(self[0]);
  }

  private void finished(Connection c) {
    connections.remove(c);
    drainLock.lock();
    try {
      drained.signalAll();
    } finally {
      drainLock.unlock();
    }
  }

  /** The connections open now, negotiating or attached. */
  public List<ConnectionInfo> connections() {
    return connections.stream().map(Connection::info).toList();
  }

  /**
   * Closes the connections attached to export {@code name} (it was removed); returns how many.
   * Requests in flight on them fail as the socket closes.
   */
  public int disconnect(String name) {
    int n = 0;
    for (Connection c : connections) {
      if (c.info().export().map(name::equals).orElse(false)) {
        c.close();
        n++;
      }
    }
    return n;
  }

  /**
   * Stops every listener and closes every connection, then waits (up to {@link #CLOSE_WAIT_MS}) for
   * their threads to finish, so no request still touches a volume that the caller closes next.
   * Idempotent.
   */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      for (ServerSocketChannel s : listeners) {
        closeQuietly(s);
      }
    }
    for (Connection c : connections) {
      c.close();
    }
    awaitDrained();
  }

  private void awaitDrained() {
    long left = TimeUnit.MILLISECONDS.toNanos(CLOSE_WAIT_MS);
    drainLock.lock();
    try {
      while (!connections.isEmpty() && left > 0) {
        left = drained.awaitNanos(left);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      drainLock.unlock();
    }
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception e) {
      // Already failed or closed: nothing more to release.
    }
  }
}
