package io.duet.iscsi;

import io.duet.iscsi.TargetCatalog.Target;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;

/**
 * The iSCSI target of one site (RFC 7143): listens on one or more portals, runs login, discovery
 * and full-feature sessions, one virtual thread per connection reader and per in-flight command.
 * Sessions are ErrorRecoveryLevel 0 with one connection each; a login with the InitiatorName and
 * ISID of a live session to the same target replaces it (session reinstatement).
 */
public final class IscsiServer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(IscsiServer.class.getName());

  /** A session as status shows it. */
  public record SessionInfo(
      String initiatorName,
      String isid,
      int tsih,
      String targetName,
      String remoteAddress,
      String localAddress,
      long commands) {}

  private final TargetCatalog catalog;
  private final IscsiSettings settings;
  private final BiFunction<Target, String, Optional<LunAccess>> lunResolver;
  private final Random random;
  private final Map<InetSocketAddress, ServerSocketChannel> portals = new ConcurrentHashMap<>();
  private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
  private final Map<String, Session> sessionsByKey = new ConcurrentHashMap<>();
  private final Object sessionLock = new Object();
  private int nextTsih = 1;
  private volatile boolean closed;
  private final Thread ticker;

  public IscsiServer(TargetCatalog catalog) {
    this(catalog, IscsiSettings.DEFAULTS);
  }

  public IscsiServer(TargetCatalog catalog, IscsiSettings settings) {
    this(
        catalog,
        settings,
        (target, initiator) -> target.lunsFor(initiator).map(LunAccess::of),
        new SecureRandom());
  }

  /** For tests: LUNs from a fake, CHAP challenges from a seeded random. */
  IscsiServer(
      TargetCatalog catalog,
      IscsiSettings settings,
      BiFunction<Target, String, Optional<LunAccess>> lunResolver,
      Random random) {
    this.catalog = Objects.requireNonNull(catalog, "catalog");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.lunResolver = lunResolver;
    this.random = random;
    this.ticker = Thread.ofVirtual().name("iscsi-nop-ticker").start(this::tickLoop);
  }

  /**
   * Opens a portal. Port 0 picks a free port.
   *
   * @return the address actually bound
   */
  public InetSocketAddress listen(InetSocketAddress address, int portalGroupTag)
      throws IOException {
    if (portalGroupTag < 0 || portalGroupTag > 0xffff) {
      throw new IllegalArgumentException("portal group tag " + portalGroupTag);
    }
    if (closed) {
      throw new IllegalStateException("server closed");
    }
    ServerSocketChannel server = ServerSocketChannel.open();
    server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
    server.bind(address, 128);
    InetSocketAddress bound = (InetSocketAddress) server.getLocalAddress();
    portals.put(bound, server);
    Thread.ofVirtual()
        .name("iscsi-accept-" + bound.getPort())
        .start(() -> acceptLoop(server, portalGroupTag));
    LOG.log(Level.INFO, "iSCSI portal {0} (tpgt {1}) listening", bound, portalGroupTag);
    return bound;
  }

  /** Closes a portal opened by {@link #listen}; its sessions stay until they log out. */
  public void closePortal(InetSocketAddress bound) throws IOException {
    ServerSocketChannel server = portals.remove(bound);
    if (server != null) {
      server.close();
    }
  }

  /** The sessions now in full feature phase (discovery sessions included). */
  public List<SessionInfo> sessions() {
    List<SessionInfo> out = new ArrayList<>();
    for (Session s : sessionsByKey.values()) {
      Connection c = s.connection;
      out.add(
          new SessionInfo(
              s.params.initiatorName(),
              s.params.isidHex(),
              s.tsih,
              s.params.targetName(),
              String.valueOf(c.remote),
              String.valueOf(c.local),
              s.commands.get()));
    }
    return out;
  }

  /** Closes every portal and connection. */
  @Override
  public void close() {
    closed = true;
    for (InetSocketAddress a : List.copyOf(portals.keySet())) {
      try {
        closePortal(a);
      } catch (IOException e) {
        LOG.log(Level.DEBUG, "closing portal {0}: {1}", a, e.toString());
      }
    }
    for (Connection c : List.copyOf(connections)) {
      c.close();
    }
    ticker.interrupt();
  }

  // ---------------------------------------------------------------- package-private plumbing

  IscsiSettings settings() {
    return settings;
  }

  TargetCatalog catalog() {
    return catalog;
  }

  LoginNegotiation newNegotiation(int portalGroupTag) {
    return new LoginNegotiation(catalog, settings, portalGroupTag, lunResolver, random);
  }

  /**
   * Allocates the TSIH of a session completing login and closes the session it reinstates.
   *
   * @return the TSIH, or -1 when the login named a TSIH of no live session
   */
  int registerSession(SessionParams p, Connection connection) {
    String key =
        p.initiatorName()
            + "|"
            + p.isidHex()
            + "|"
            + (p.targetName() == null ? "" : p.targetName());
    Session old;
    int tsih;
    synchronized (sessionLock) {
      old = sessionsByKey.get(key);
      if (p.requestedTsih() != 0 && (old == null || old.tsih != p.requestedTsih())) {
        return -1;
      }
      tsih = old != null && p.requestedTsih() != 0 ? old.tsih : allocateTsih();
    }
    if (old != null) {
      LOG.log(Level.INFO, "iSCSI session reinstatement: closing tsih={0} of {1}", old.tsih, key);
      sessionsByKey.remove(key, old);
      old.connection.close();
    }
    return tsih;
  }

  private int allocateTsih() {
    Set<Integer> used = ConcurrentHashMap.newKeySet();
    for (Session s : sessionsByKey.values()) {
      used.add(s.tsih);
    }
    for (int i = 0; i < 0xffff; i++) {
      int t = nextTsih;
      nextTsih = nextTsih == 0xffff ? 1 : nextTsih + 1;
      if (!used.contains(t)) {
        return t;
      }
    }
    throw new IllegalStateException("no free TSIH");
  }

  /** Open connections, logged in or not (for tests). */
  int connectionCount() {
    return connections.size();
  }

  /** Live sessions, for tests. */
  List<Session> liveSessions() {
    return List.copyOf(sessionsByKey.values());
  }

  void sessionEstablished(Session s) {
    sessionsByKey.put(s.key(), s);
  }

  void connectionClosed(Connection c) {
    connections.remove(c);
    Session s = c.session();
    if (s != null) {
      retireSession(s);
    }
  }

  /**
   * Ends a session's I_T nexus (logout or connection loss) unless a reinstating session has already
   * taken its place. Idempotent.
   */
  void retireSession(Session s) {
    if (sessionsByKey.remove(s.key(), s) && s.nexus != null) {
      try {
        s.luns.detach(s.nexus);
      } catch (RuntimeException e) {
        LOG.log(Level.ERROR, "detaching " + s.nexus + " failed", e);
      }
    }
  }

  /** Drops every session to {@code targetName} (TARGET COLD RESET). */
  void closeSessionsOf(String targetName) {
    for (Session s : List.copyOf(sessionsByKey.values())) {
      if (targetName.equals(s.params.targetName())) {
        s.connection.close();
      }
    }
  }

  private void acceptLoop(ServerSocketChannel server, int portalGroupTag) {
    while (server.isOpen()) {
      SocketChannel channel;
      try {
        channel = server.accept();
      } catch (IOException e) {
        if (server.isOpen()) {
          LOG.log(Level.WARNING, "iSCSI accept failed: {0}", e.toString());
          continue;
        }
        return;
      }
      try {
        channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        Connection c = new Connection(this, channel, portalGroupTag);
        connections.add(c);
        if (closed) {
          c.close();
          return;
        }
        Thread.ofVirtual().name("iscsi-conn").start(c);
      } catch (IOException e) {
        LOG.log(Level.WARNING, "iSCSI connection setup failed: {0}", e.toString());
        try {
          channel.close();
        } catch (IOException ignored) {
          // nothing more to do for a socket that failed to set up
        }
      }
    }
  }

  private void tickLoop() {
    long periodMs =
        Math.max(
            10,
            Math.min(
                1000,
                Math.min(
                        settings.nopInIntervalMs() == 0 ? 1000 : settings.nopInIntervalMs(),
                        settings.nopInTimeoutMs())
                    / 4));
    while (!closed) {
      try {
        Thread.sleep(periodMs);
      } catch (InterruptedException e) {
        return;
      }
      long now = settings.nanoClock().getAsLong();
      for (Connection c : connections) {
        c.tick(now);
      }
    }
  }
}
