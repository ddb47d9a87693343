package io.duet.testkit.proxy;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * One accepted client and its connection to the target, with a pump per direction. It ends either
 * gracefully (both directions delivered their FIN: both sockets closed normally) or by {@link
 * #abort()} (a socket error, a proxy reset or close: both sockets closed with RST).
 */
final class Connection {
  private final long id;
  private final Socket client;
  private final Socket server = new Socket();
  private final Consumer<Connection> onEnd;
  private final AtomicInteger finishedDirections = new AtomicInteger();
  private Pump upstream;
  private Pump downstream;
  private boolean ended;

  Connection(long id, Socket client, Consumer<Connection> onEnd) {
    this.id = id;
    this.client = client;
    this.onEnd = onEnd;
  }

  /** Connects to the target; an abort meanwhile closes the socket and makes this throw. */
  void connect(InetSocketAddress target, int timeoutMs) throws IOException {
    server.connect(target, timeoutMs);
    // Latency is the proxy's to add; Nagle would add its own on small messages.
    server.setTcpNoDelay(true);
    client.setTcpNoDelay(true);
  }

  /** Starts the four pump threads, unless the connection was aborted while connecting. */
  synchronized void start(
      LinkState up, LinkState down, LongSupplier nanoClock, long bufferBytesPerDirection) {
    if (ended) {
      return;
    }
    upstream = new Pump(client, server, up, this, nanoClock, bufferBytesPerDirection);
    downstream = new Pump(server, client, down, this, nanoClock, bufferBytesPerDirection);
    String name = "fault-proxy-" + id;
    Thread.ofVirtual().name(name + "-up-read").start(upstream::readLoop);
    Thread.ofVirtual().name(name + "-up-write").start(upstream::writeLoop);
    Thread.ofVirtual().name(name + "-down-read").start(downstream::readLoop);
    Thread.ofVirtual().name(name + "-down-write").start(downstream::writeLoop);
  }

  /** Makes waiting pumps re-read the settings. */
  synchronized void wake() {
    if (upstream != null) {
      upstream.wake();
      downstream.wake();
    }
  }

  /** Called by a pump once it has passed its direction's FIN on. */
  void directionFinished() {
    if (finishedDirections.incrementAndGet() == 2) {
      end(false);
    }
  }

  /** Closes both sockets with RST (SO_LINGER 0): both peers see a connection reset. */
  void abort() {
    end(true);
  }

  private void end(boolean reset) {
    synchronized (this) {
      if (ended) {
        return;
      }
      ended = true;
      if (upstream != null) {
        upstream.stop();
        downstream.stop();
      }
    }
    close(client, reset);
    close(server, reset);
    onEnd.accept(this);
  }

  private static void close(Socket socket, boolean reset) {
    try {
      if (reset && !socket.isClosed()) {
        socket.setSoLinger(true, 0);
      }
    } catch (IOException e) {
      // Not connected yet or already dead: a plain close below is all that is left to do.
    }
    try {
      socket.close();
    } catch (IOException e) {
      // Closing is the last thing this connection does; there is no one left to tell.
    }
  }
}
