package io.duet.node;

import io.duet.nbd.ExportCatalog;
import io.duet.nbd.NbdServer;
import io.duet.nbd.NbdSettings;
import io.duet.nbd.NbdTls;
import io.duet.node.config.HostPort;
import io.duet.node.config.NbdTlsConfig;
import io.duet.store.LocalVolume;
import io.duet.store.Volume;
import io.duet.store.VolumeStore;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;

/**
 * The site's NBD side: the NBD server and its listeners, and the exports saved in the site state
 * (name, volume, read-only, allowed client networks). As the server's {@link ExportCatalog} it
 * answers from the current state snapshot, so an export change applies to the next connection;
 * removing an export also drops the connections attached to it.
 */
final class NbdExports implements ExportCatalog, AutoCloseable {
  /** Who may open an export when the operator names no networks: this machine only. */
  static final List<String> ALLOW_DEFAULT = List.of("127.0.0.0/8", "::1/128");

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

  private final StateStore state;
  private final VolumeStore store;
  private final EventLog events;
  private final ReentrantLock lock;
  private final NbdServer server;
  private final List<HostPort> bound = new ArrayList<>();

  /** The volume clients reach by name: the replicated one for volumes of a group. */
  private volatile Function<String, Optional<? extends Volume>> volumes;

  NbdExports(
      StateStore state,
      VolumeStore store,
      EventLog events,
      ReentrantLock lock,
      NbdSettings settings) {
    this.state = state;
    this.store = store;
    this.events = events;
    this.lock = lock;
    this.server = new NbdServer(this, settings);
    this.volumes = store::get;
  }

  /** Where exports find their volumes from now on (the node's units, once groups exist). */
  void volumes(Function<String, Optional<? extends Volume>> resolver) {
    this.volumes = resolver;
  }

  /** Server settings from the site's {@code nbdTls} section (none: STARTTLS is refused). */
  static NbdSettings settings(Optional<NbdTlsConfig> tls) throws IOException {
    NbdSettings settings = NbdSettings.defaults();
    if (tls.isEmpty()) {
      return settings;
    }
    NbdTlsConfig t = tls.get();
    SSLContext ctx =
        t.keystore().isPresent()
            ? NbdTls.fromPkcs12(
                t.keystore().get(), t.keystorePassword().toCharArray(), t.clientCa())
            : NbdTls.fromPem(t.certificate().orElseThrow(), t.key().orElseThrow(), t.clientCa());
    return settings.withTls(ctx, t.required(), t.clientCa().isPresent());
  }

  /** Opens an NBD listener; returns the bound address (a real port when 0 was asked). */
  HostPort listen(HostPort address) throws IOException {
    InetSocketAddress a = server.listen(address.toSocketAddress());
    HostPort hp = new HostPort(address.host(), a.getPort());
    synchronized (bound) {
      bound.add(hp);
    }
    return hp;
  }

  List<HostPort> listeners() {
    synchronized (bound) {
      return List.copyOf(bound);
    }
  }

  /** {@code nbd://host:port/export} for every listener and export. */
  List<String> urls() {
    List<String> urls = new ArrayList<>();
    for (HostPort l : listeners()) {
      for (SiteState.NbdExport e : state.get().nbdExports()) {
        urls.add(url(l, e.name()));
      }
    }
    return urls;
  }

  private static String url(HostPort listener, String export) {
    return "nbd://"
        + listener.urlHost()
        + ":"
        + listener.port()
        + "/"
        + URLEncoder.encode(export, StandardCharsets.UTF_8);
  }

  // ---- ExportCatalog (called by the NBD server on connection threads) ----

  @Override
  public List<String> list(InetAddress client, Optional<String> clientCertSubject) {
    return state.get().nbdExports().stream()
        .filter(e -> allowed(e, client))
        .map(SiteState.NbdExport::name)
        .toList();
  }

  @Override
  public Optional<Export> open(String name, InetAddress client, Optional<String> subject) {
    return state.get().nbdExports().stream()
        .filter(e -> e.name().equals(name) && allowed(e, client))
        .findFirst()
        .flatMap(
            e ->
                volumes
                    .apply(e.volume())
                    .map(v -> new Export(e.name(), "Duet volume " + e.volume(), v, e.readOnly())));
  }

  private static boolean allowed(SiteState.NbdExport e, InetAddress client) {
    // IPv4 clients on a dual-stack socket arrive as ::ffff:a.b.c.d; InetAddress already maps
    // those to Inet4Address, so an IPv4 CIDR matches them.
    return e.allow().stream().anyMatch(c -> Cidr.parse(c).contains(client));
  }

  // ---- administration (under the site's admin lock) ----

  List<Views.NbdExport> exports() {
    return state.get().nbdExports().stream().map(this::view).toList();
  }

  Views.NbdExport export(String name) {
    return view(find(name));
  }

  private Views.NbdExport view(SiteState.NbdExport e) {
    List<String> urls = listeners().stream().map(l -> url(l, e.name())).toList();
    long connections =
        server.connections().stream()
            .filter(c -> c.export().map(e.name()::equals).orElse(false))
            .count();
    return new Views.NbdExport(e.name(), e.volume(), e.readOnly(), e.allow(), urls, connections);
  }

  /**
   * Exports {@code volume} as {@code name} (null: the volume's name) to clients in {@code allow}
   * (null or empty: loopback only).
   */
  Views.NbdExport create(String volume, String name, List<String> allow, boolean readOnly)
      throws IOException {
    lock.lock();
    try {
      LocalVolume v =
          store
              .get(volume)
              .orElseThrow(() -> AdminException.notFound("no volume '" + volume + "'"));
      String vol = v.identity().name();
      String exportName = name == null ? vol : name;
      if (!NAME.matcher(exportName).matches()) {
        throw AdminException.invalid(
            "export name '" + exportName + "' must be 1-128 letters, digits, '.', '_' or '-'");
      }
      List<String> networks = allow == null || allow.isEmpty() ? ALLOW_DEFAULT : allow;
      List<String> canonical = networks.stream().map(c -> Cidr.parse(c).text()).toList();
      if (state.get().nbdExports().stream().anyMatch(e -> e.name().equals(exportName))) {
        throw AdminException.conflict("NBD export '" + exportName + "' exists already");
      }
      SiteState.NbdExport created = new SiteState.NbdExport(exportName, vol, readOnly, canonical);
      List<SiteState.NbdExport> next = new ArrayList<>(state.get().nbdExports());
      next.add(created);
      state.update(s -> s.withNbdExports(next));
      events.record(
          "nbd.exported",
          vol,
          "volume "
              + vol
              + " exported over NBD as "
              + exportName
              + (readOnly ? " read-only" : "")
              + " to "
              + String.join(", ", canonical));
      return view(created);
    } finally {
      lock.unlock();
    }
  }

  /** Removes export {@code name} and disconnects its clients. */
  void delete(String name) throws IOException {
    lock.lock();
    try {
      SiteState.NbdExport e = find(name);
      state.update(
          s ->
              s.withNbdExports(
                  s.nbdExports().stream().filter(x -> !x.name().equals(name)).toList()));
      int dropped = server.disconnect(name);
      events.record(
          "nbd.unexported",
          e.volume(),
          "NBD export "
              + name
              + " removed"
              + (dropped > 0 ? ", " + dropped + " client(s) dropped" : ""));
    } finally {
      lock.unlock();
    }
  }

  /** Export names of {@code volume}. */
  List<String> exportsOf(String volume) {
    return state.get().nbdExports().stream()
        .filter(e -> e.volume().equals(volume))
        .map(SiteState.NbdExport::name)
        .toList();
  }

  private SiteState.NbdExport find(String name) {
    return state.get().nbdExports().stream()
        .filter(e -> e.name().equals(name))
        .findFirst()
        .orElseThrow(() -> AdminException.notFound("no NBD export '" + name + "'"));
  }

  @Override
  public void close() {
    server.close();
  }
}
