package io.duet.node;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A loopback TCP relay between a site and a peer's replication port that a test can cut (every
 * connection closed, new ones refused) and heal.
 */
final class TcpRelay implements AutoCloseable {
  private final ServerSocket server;
  private volatile InetSocketAddress target;
  private final List<Socket> open = new CopyOnWriteArrayList<>();
  private volatile boolean cut;

  TcpRelay(InetSocketAddress target) throws IOException {
    this.target = target;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread.ofVirtual().name("relay-accept").start(this::acceptLoop);
  }

  String address() {
    return "127.0.0.1:" + server.getLocalPort();
  }

  void cut() {
    cut = true;
    for (Socket s : open) {
      closeQuietly(s);
    }
    open.clear();
  }

  /** Relays new connections to {@code newTarget} (the peer restarted on another port). */
  void retarget(InetSocketAddress newTarget) {
    this.target = newTarget;
  }

  void heal() {
    cut = false;
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      Socket in;
      try {
        in = server.accept();
      } catch (IOException e) {
        return;
      }
      if (cut) {
        closeQuietly(in);
        continue;
      }
      try {
        Socket out = new Socket();
        out.connect(target, 5000);
        open.add(in);
        open.add(out);
        pump(in, out);
        pump(out, in);
      } catch (IOException e) {
        closeQuietly(in);
      }
    }
  }

  private void pump(Socket from, Socket to) {
    Thread.ofVirtual()
        .name("relay-pump")
        .start(
            () -> {
              byte[] buf = new byte[64 * 1024];
              try (InputStream i = from.getInputStream();
                  OutputStream o = to.getOutputStream()) {
                int n;
                while ((n = i.read(buf)) >= 0) {
                  o.write(buf, 0, n);
                }
              } catch (IOException e) {
                // one side closed: close both below
              } finally {
                closeQuietly(from);
                closeQuietly(to);
              }
            });
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // closing a test socket
    }
  }

  @Override
  public void close() throws IOException {
    cut();
    server.close();
  }
}
