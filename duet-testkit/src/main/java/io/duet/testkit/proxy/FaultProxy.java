package io.duet.testkit.proxy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * A TCP proxy that tests put on a link (replication, mediator) to delay, throttle, blackhole and
 * reset it for real. It listens on a port and forwards every accepted connection to one target. All
 * controls are thread-safe and apply at once to existing and new connections, each {@link
 * Direction} independently; {@link #heal()} undoes them.
 *
 * <pre>{@code
 * try (FaultProxy proxy = FaultProxy.start(new InetSocketAddress("127.0.0.1", peerPort))) {
 *   connectPeerTo(proxy.address());
 *   proxy.latency(Duration.ofMillis(5));          // 10 ms round trip
 *   proxy.blackhole(Direction.UPSTREAM);          // one-way cut
 *   proxy.heal();
 * }
 * }</pre>
 *
 * <p>The bandwidth cap of a direction is shared by all its connections, like a real link's. Each
 * connection buffers at most {@link Builder#bufferBytesPerDirection} bytes per direction, so with
 * latency L one connection moves at most that much per L (a TCP window, in effect).
 */
public final class FaultProxy implements AutoCloseable {
  static final long MAX_DELAY_NANOS = Duration.ofHours(1).toNanos();

  private final ServerSocket listener;
  private final InetSocketAddress target;
  private final LongSupplier nanoClock;
  private final int connectTimeoutMs;
  private final long bufferBytesPerDirection;
  private final Map<Direction, LinkState> links = new EnumMap<>(Direction.class);
  private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
  private final AtomicLong accepted = new AtomicLong();
  private final AtomicLong refused = new AtomicLong();
  private final Thread acceptor;
  private volatile boolean refusing;
  private volatile boolean closed;

  private FaultProxy(Builder builder) throws IOException {
    this.target = builder.target;
    this.nanoClock = builder.nanoClock;
    this.connectTimeoutMs = builder.connectTimeoutMs;
    this.bufferBytesPerDirection = builder.bufferBytesPerDirection;
    // One generator for both directions: a seed then fixes the whole jitter sequence.
    Random random = new Random(builder.seed);
    for (Direction d : Direction.values()) {
      links.put(d, new LinkState(d, random, nanoClock.getAsLong()));
    }
    this.listener = new ServerSocket(builder.listenPort, 128, builder.bindAddress);
    this.acceptor =
        Thread.ofVirtual()
            .name("fault-proxy-accept-" + listener.getLocalPort())
            .start(this::acceptLoop);
  }

  /** Starts a proxy on a free loopback port with default settings, forwarding to {@code target}. */
  public static FaultProxy start(InetSocketAddress target) throws IOException {
    return to(target).start();
  }

  /** A builder for a proxy forwarding to {@code target}. */
  public static Builder to(InetSocketAddress target) {
    return new Builder(target);
  }

  /** Options of a {@link FaultProxy}; every one has a safe default. */
  public static final class Builder {
    private final InetSocketAddress target;
    private int listenPort;
    private InetAddress bindAddress = InetAddress.getLoopbackAddress();
    private long seed = 1;
    private long bufferBytesPerDirection = 1024 * 1024;
    private int connectTimeoutMs = 5_000;
    private LongSupplier nanoClock = System::nanoTime;

    private Builder(InetSocketAddress target) {
      this.target = Objects.requireNonNull(target, "target");
    }

    /** The port to listen on; 0 (the default) picks a free one. */
    public Builder listenPort(int port) {
      if (port < 0 || port > 65_535) {
        throw new IllegalArgumentException("port out of range: " + port);
      }
      this.listenPort = port;
      return this;
    }

    /** The address to listen on; loopback by default. */
    public Builder bindAddress(InetAddress address) {
      this.bindAddress = Objects.requireNonNull(address, "address");
      return this;
    }

    /** The seed of the jitter generator (default 1), so a run with jitter can be repeated. */
    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /** How many bytes each connection may hold in flight per direction (default 1 MiB). */
    public Builder bufferBytesPerDirection(long bytes) {
      if (bytes < 1 || bytes > 1L << 30) {
        throw new IllegalArgumentException("buffer must be 1 B..1 GiB: " + bytes);
      }
      this.bufferBytesPerDirection = bytes;
      return this;
    }

    /** How long to wait for the target when a client connects (default 5 s). */
    public Builder connectTimeout(Duration timeout) {
      long ms = timeout.toMillis();
      if (ms < 1 || ms > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("connect timeout out of range: " + timeout);
      }
      this.connectTimeoutMs = (int) ms;
      return this;
    }

    /** Replaces the clock that stamps and releases chunks (tests of the proxy itself). */
    Builder nanoClock(LongSupplier clock) {
      this.nanoClock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** Binds the listener and starts accepting. */
    public FaultProxy start() throws IOException {
      return new FaultProxy(this);
    }
  }

  /** The address clients connect to. */
  public InetSocketAddress address() {
    return new InetSocketAddress(listener.getInetAddress(), listener.getLocalPort());
  }

  /** The port clients connect to. */
  public int port() {
    return listener.getLocalPort();
  }

  /** Where connections are forwarded. */
  public InetSocketAddress target() {
    return target;
  }

  /** Adds {@code oneWay} of latency in both directions, without jitter. */
  public void latency(Duration oneWay) {
    for (Direction d : Direction.values()) {
      latency(d, oneWay, Duration.ZERO);
    }
  }

  /** Adds {@code oneWay} of latency in one direction, without jitter. */
  public void latency(Direction direction, Duration oneWay) {
    latency(direction, oneWay, Duration.ZERO);
  }

  /**
   * Delays every chunk in {@code direction} by {@code oneWay} plus a jitter drawn uniformly from
   * [-jitter, +jitter] (never below zero), keeping byte order: a late chunk holds back later ones.
   */
  public void latency(Direction direction, Duration oneWay, Duration jitter) {
    link(direction).latency(delayNanos(oneWay, "latency"), delayNanos(jitter, "jitter"));
    wakeAll();
  }

  /** Caps both directions at {@code bytesPerSecond} each; 0 removes the cap. */
  public void bandwidth(long bytesPerSecond) {
    for (Direction d : Direction.values()) {
      bandwidth(d, bytesPerSecond);
    }
  }

  /**
   * Caps one direction, shared by all its connections, at {@code bytesPerSecond}; 0 = none. A new
   * cap starts with no credit; an idle link saves up at most 100 ms worth for a burst.
   */
  public void bandwidth(Direction direction, long bytesPerSecond) {
    if (bytesPerSecond < 0) {
      throw new IllegalArgumentException("negative bandwidth " + bytesPerSecond);
    }
    link(direction).bucket.rate(bytesPerSecond, nanoClock.getAsLong());
    wakeAll();
  }

  /**
   * Cuts the given directions like a pulled cable: connections stay open, the receiver hears
   * nothing, and bytes sent meanwhile (and those in flight) are lost, counted by {@link
   * #bytesDropped}. A FIN is held rather than lost. {@link #heal()} reconnects the wire.
   */
  public void blackhole(Direction... directions) {
    if (directions.length == 0) {
      throw new IllegalArgumentException("name at least one direction");
    }
    for (Direction d : directions) {
      link(d).blackholed(true);
    }
    wakeAll();
  }

  /** Closes every current connection with RST (SO_LINGER 0), so both peers see a reset. */
  public void reset() {
    for (Connection c : connections) {
      c.abort();
    }
  }

  /** While true, each newly accepted connection is reset at once; existing ones are untouched. */
  public void refuseNewConnections(boolean refuse) {
    this.refusing = refuse;
  }

  /** Removes every fault: blackholes, refusal, latency, jitter and bandwidth caps. */
  public void heal() {
    refusing = false;
    for (LinkState link : links.values()) {
      link.blackholed(false);
      link.latency(0, 0);
      link.bucket.rate(0, nanoClock.getAsLong());
    }
    wakeAll();
  }

  /** Bytes delivered to the receiving side in {@code direction} since start. */
  public long bytesForwarded(Direction direction) {
    return link(direction).forwardedBytes.sum();
  }

  /** Bytes lost to a blackhole in {@code direction} since start. */
  public long bytesDropped(Direction direction) {
    return link(direction).droppedBytes.sum();
  }

  /** Connections accepted since start, including refused ones. */
  public long connectionsAccepted() {
    return accepted.get();
  }

  /** Connections reset at once because new connections were being refused. */
  public long connectionsRefused() {
    return refused.get();
  }

  /** Connections currently open (including those still connecting to the target). */
  public int currentConnections() {
    return connections.size();
  }

  /** Stops listening and resets every connection. */
  @Override
  public void close() {
    closed = true;
    try {
      listener.close();
    } catch (IOException e) {
      // The listener is going away either way; the connections below still get reset.
    }
    reset();
    try {
      acceptor.join(Duration.ofSeconds(5));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public String toString() {
    return "FaultProxy[" + address() + " -> " + target + "]";
  }

  private LinkState link(Direction direction) {
    return links.get(Objects.requireNonNull(direction, "direction"));
  }

  private static long delayNanos(Duration delay, String what) {
    Objects.requireNonNull(delay, what);
    if (delay.isNegative() || delay.compareTo(Duration.ofNanos(MAX_DELAY_NANOS)) > 0) {
      throw new IllegalArgumentException(what + " must be 0..1h: " + delay);
    }
    return delay.toNanos();
  }

  private void wakeAll() {
    for (Connection c : connections) {
      c.wake();
    }
  }

  private void acceptLoop() {
    AtomicLong ids = new AtomicLong();
    while (!closed) {
      Socket client;
      try {
        client = listener.accept();
      } catch (IOException e) {
        // Either close() (expected) or a listener failure. Stopping is the honest response to
        // the latter: clients then get "connection refused" instead of a proxy that half works.
        closeQuietly();
        return;
      }
      accepted.incrementAndGet();
      if (refusing) {
        refused.incrementAndGet();
        Connection refusedConnection = new Connection(ids.incrementAndGet(), client, c -> {});
        refusedConnection.abort();
        continue;
      }
      Connection connection = new Connection(ids.incrementAndGet(), client, connections::remove);
      connections.add(connection);
      // Connecting may take up to the timeout; it must not hold up the next accept.
      Thread.ofVirtual().name("fault-proxy-connect-" + port()).start(() -> establish(connection));
    }
  }

  private void establish(Connection connection) {
    if (closed) {
      connection.abort();
      return;
    }
    try {
      connection.connect(target, connectTimeoutMs);
    } catch (IOException e) {
      // The target is down or the connection was reset while connecting: the client gets a
      // reset, which is what a client of the real target would see as a refused connect.
      connection.abort();
      return;
    }
    connection.start(
        links.get(Direction.UPSTREAM),
        links.get(Direction.DOWNSTREAM),
        nanoClock,
        bufferBytesPerDirection);
  }

  private void closeQuietly() {
    try {
      listener.close();
    } catch (IOException e) {
      // Already failing; nothing more to release.
    }
  }
}
