package io.duet.testkit.proxy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** Loopback servers and helpers for the proxy tests. */
final class TestServers {
  private TestServers() {}

  /** Polls {@code condition} until it holds or {@code timeout} passes (then fails). */
  static void await(BooleanSupplier condition, Duration timeout, String what) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("timed out waiting for " + what);
      }
      try {
        Thread.sleep(2);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for " + what);
      }
    }
  }

  static Socket connect(InetSocketAddress address) throws IOException {
    Socket socket = new Socket(address.getAddress(), address.getPort());
    socket.setTcpNoDelay(true);
    // A bound on every blocking read, so a broken proxy fails a test instead of hanging it.
    socket.setSoTimeout(10_000);
    return socket;
  }

  /** Reads exactly {@code n} bytes or fails. */
  static byte[] readExactly(InputStream in, int n) throws IOException {
    byte[] data = in.readNBytes(n);
    if (data.length != n) {
      throw new IOException("EOF after " + data.length + " of " + n + " bytes");
    }
    return data;
  }

  /** Echoes every byte back on each accepted connection; closes its side after the client's EOF. */
  static final class Echo implements AutoCloseable {
    private final ServerSocket listener;

    Echo() throws IOException {
      listener = new ServerSocket(0, 128, InetAddress.getLoopbackAddress());
      Thread.ofVirtual().start(this::acceptLoop);
    }

    InetSocketAddress address() {
      return new InetSocketAddress(InetAddress.getLoopbackAddress(), listener.getLocalPort());
    }

    private void acceptLoop() {
      try {
        while (true) {
          Socket socket = listener.accept();
          Thread.ofVirtual().start(() -> echo(socket));
        }
      } catch (IOException e) {
        // Closed by the test.
      }
    }

    private static void echo(Socket socket) {
      try (socket) {
        socket.setTcpNoDelay(true);
        InputStream in = socket.getInputStream();
        OutputStream out = socket.getOutputStream();
        byte[] buffer = new byte[32 * 1024];
        int n;
        while ((n = in.read(buffer)) >= 0) {
          out.write(buffer, 0, n);
        }
      } catch (IOException e) {
        // Reset by the proxy: the test looks at the client side.
      }
    }

    @Override
    public void close() throws IOException {
      listener.close();
    }
  }

  /** Hands every accepted socket to the test, which then plays the server by hand. */
  static final class Tap implements AutoCloseable {
    private final ServerSocket listener;
    private final LinkedBlockingQueue<Socket> accepted = new LinkedBlockingQueue<>();

    Tap() throws IOException {
      listener = new ServerSocket(0, 128, InetAddress.getLoopbackAddress());
      Thread.ofVirtual().start(this::acceptLoop);
    }

    InetSocketAddress address() {
      return new InetSocketAddress(InetAddress.getLoopbackAddress(), listener.getLocalPort());
    }

    private void acceptLoop() {
      try {
        while (true) {
          Socket socket = listener.accept();
          socket.setTcpNoDelay(true);
          socket.setSoTimeout(10_000);
          accepted.add(socket);
        }
      } catch (IOException e) {
        // Closed by the test.
      }
    }

    /** The next connection the proxy made to this server. */
    Socket next() throws InterruptedException {
      Socket socket = accepted.poll(10, TimeUnit.SECONDS);
      if (socket == null) {
        throw new AssertionError("no connection reached the server");
      }
      return socket;
    }

    @Override
    public void close() throws IOException {
      listener.close();
      for (Socket s : accepted) {
        s.close();
      }
    }
  }
}
