package io.duet.node;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.duet.iscsi.IscsiServer;
import io.duet.node.cg.ConsistencyGroups;
import io.duet.node.config.HostPort;
import io.duet.node.config.SiteConfig;
import io.duet.node.mediator.SiteMediator;
import io.duet.scsi.AluaGroups;
import io.duet.scsi.AluaState;
import io.duet.scsi.ScsiSite;
import io.duet.store.VolumeStore;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running Duet site in this process: its volume store, SCSI logical units, iSCSI portals and
 * REST API, wired together from a {@link SiteConfig} and the state saved in the data directory.
 *
 * <p>Data directory layout: {@code site.state} (hosts, targets, mappings, portals, ALUA; CRC framed
 * JSON), {@code api-token}, {@code events.log} (JSON lines), {@code volumes/} (the store), {@code
 * lock} (held while the site runs, so two processes never share a directory).
 */
public final class Node implements AutoCloseable {
  static final String STATE_FILE = "site.state";
  static final String EVENTS_FILE = "events.log";
  static final String VOLUMES_DIR = "volumes";
  static final String LOCK_FILE = "lock";
  static final String API_URL_FILE = "api-url";

  private static final Logger log = LoggerFactory.getLogger(Node.class);

  private final SiteConfig config;
  private final Deque<AutoCloseable> resources;
  private final SiteAdmin admin;
  private final ApiToken token;
  private final InetSocketAddress apiAddress;
  private final EventLog events;
  private final Catalog catalog;
  private final Peering peering;
  private final ConsistencyGroups groups;
  private boolean closed;

  private Node(
      SiteConfig config,
      Deque<AutoCloseable> resources,
      SiteAdmin admin,
      ApiToken token,
      InetSocketAddress apiAddress,
      EventLog events,
      Catalog catalog,
      Peering peering,
      ConsistencyGroups groups) {
    this.config = config;
    this.groups = groups;
    this.peering = peering;
    this.resources = resources;
    this.admin = admin;
    this.token = token;
    this.apiAddress = apiAddress;
    this.events = events;
    this.catalog = catalog;
  }

  /** Starts a site with the system clock. */
  public static Node start(SiteConfig config) throws IOException {
    return start(config, Clock.systemUTC());
  }

  /**
   * Starts a site: opens the store and state, builds the logical units, opens every portal and the
   * REST API. Returns once hosts can log in and the API answers.
   *
   * @throws IOException when the data directory, a portal or the API address cannot be used; the
   *     message says which
   */
  public static Node start(SiteConfig config, Clock clock) throws IOException {
    Deque<AutoCloseable> resources = new ArrayDeque<>();
    try {
      return startInto(config, clock, resources);
    } catch (IOException | RuntimeException e) {
      closeAll(resources);
      throw e;
    }
  }

  private static Node startInto(SiteConfig config, Clock clock, Deque<AutoCloseable> resources)
      throws IOException {
    Path data = config.dataDir();
    privateDirectory(data);
    resources.push(lockDataDir(data));
    ObjectMapper json = Json.mapper();
    ApiToken token = ApiToken.loadOrCreate(data, new SecureRandom());
    StateStore state =
        StateStore.open(data.resolve(STATE_FILE), json, AluaState.ACTIVE_OPTIMIZED.name());
    EventLog events =
        new EventLog(data.resolve(EVENTS_FILE), EventLog.RING_CAPACITY_DEFAULT, clock, json);
    resources.push(events);
    VolumeStore store = VolumeStore.open(data.resolve(VOLUMES_DIR));
    resources.push(store);

    AluaState aluaState = AluaState.valueOf(state.get().aluaState());
    AluaGroups alua =
        new AluaGroups(
            List.of(
                new AluaGroups.PortGroup(
                    config.portGroupId(), aluaState, List.of(config.relativeTargetPortId()))));
    Units units = new Units(store, new ScsiSite(alua));
    units.loadAll();
    Catalog catalog = new Catalog(config, state::get, units);
    IscsiServer iscsi = new IscsiServer(catalog);
    resources.push(iscsi);
    SiteAdmin admin =
        new SiteAdmin(
            config,
            state,
            store,
            units,
            catalog,
            iscsi,
            alua,
            events,
            NbdExports.settings(config.nbdTls()));
    resources.push(admin.nbd());

    Peering peering;
    try {
      peering =
          Peering.start(config, java.util.UUID.fromString(state.get().siteUuid()), events, clock);
    } catch (IOException e) {
      throw new IOException("cannot start peering: " + e.getMessage(), e);
    }
    resources.push(peering);

    SiteMediator mediator;
    try {
      mediator =
          SiteMediator.open(
              data, java.util.UUID.fromString(state.get().siteUuid()), json, clock, events::record);
    } catch (IOException e) {
      throw new IOException("cannot load the mediator settings: " + e.getMessage(), e);
    }
    // Before the groups: closed after them, so no group calls a closed client.
    resources.push(mediator);

    // Before any portal opens: a volume of a group must refuse I/O until its group runs, or a
    // host that reconnects at once could write to it past replication.
    SiteGroups siteGroups =
        new SiteGroups(config, state, store, units, catalog, admin, events, peering, mediator);
    ConsistencyGroups groups = new ConsistencyGroups(siteGroups, json, clock);
    // Pushed after peering: closed before it, so replication stops before the links do.
    resources.push(groups);
    siteGroups.attach(groups);
    admin.groups(groups::groupOf, siteGroups::hostsChanged);
    try {
      groups.start();
    } catch (IOException e) {
      throw new IOException("cannot start the consistency groups: " + e.getMessage(), e);
    }
    mediator.onChange(groups::mediatorChanged);
    peering.onChannels(groups::attachPeer);
    peering.guard(groups::groupWithPeer);

    for (HostPort p : config.portals()) {
      try {
        admin.openAtStart(p, true);
      } catch (IOException e) {
        throw new IOException("cannot listen on iSCSI portal " + p + ": " + e.getMessage(), e);
      }
    }
    for (String saved : state.get().portals()) {
      try {
        admin.openAtStart(HostPort.parse(saved), false);
      } catch (IOException | IllegalArgumentException e) {
        // A portal added at run time may name an address this machine no longer has; the site
        // still serves the others, and the operator sees why in the events.
        events.record(
            "portal.failed", saved, "cannot reopen iSCSI portal " + saved + ": " + e.getMessage());
      }
    }
    catalog.refresh();
    for (HostPort p : config.nbd()) {
      try {
        admin.nbd().listen(p);
      } catch (IOException e) {
        throw new IOException("cannot listen for NBD on " + p + ": " + e.getMessage(), e);
      }
    }

    Instant started = Instant.ofEpochMilli(clock.millis());
    RestApi api = new RestApi(admin, peering, groups, mediator, token, json, clock, started);
    InetSocketAddress bound;
    try {
      bound = api.start(config.api());
    } catch (RuntimeException e) {
      // Jetty reports a busy port as an unchecked exception wrapping the BindException.
      throw new IOException(
          "cannot start the REST API on " + config.api() + ": " + rootMessage(e), e);
    }
    resources.push(api);
    // For 'duet --data-dir DIR ...': the CLI finds the API of a site started on a free port.
    Files.writeString(
        data.resolve(API_URL_FILE),
        "http://" + HostPort.of(bound) + "\n",
        StandardCharsets.US_ASCII);
    SessionWatcher watcher =
        new SessionWatcher(iscsi::sessions, events, SessionWatcher.INTERVAL_DEFAULT);
    watcher.start();
    resources.push(watcher);
    events.record(
        "site.started",
        config.name(),
        "site "
            + config.name()
            + " started: API "
            + HostPort.of(bound)
            + ", portals "
            + admin.boundPortals()
            + (config.nbd().isEmpty() ? "" : ", NBD " + admin.nbd().listeners())
            + (peering.enabled() ? ", replication " + peering.address() : ""));
    return new Node(config, resources, admin, token, bound, events, catalog, peering, groups);
  }

  /**
   * Creates the data directory owner-only, or makes an existing one so: the state file holds CHAP
   * secrets and AtomicFile creates files with default permissions.
   */
  private static void privateDirectory(Path data) throws IOException {
    Set<PosixFilePermission> ownerOnly = PosixFilePermissions.fromString("rwx------");
    if (Files.notExists(data)) {
      Files.createDirectories(data.toAbsolutePath().getParent());
      Files.createDirectory(data, PosixFilePermissions.asFileAttribute(ownerOnly));
    } else if (!Files.getPosixFilePermissions(data).equals(ownerOnly)) {
      log.info("restricting data directory {} to its owner (it holds secrets)", data);
      Files.setPosixFilePermissions(data, ownerOnly);
    }
  }

  /** Holds an exclusive lock on the data directory until the returned channel is closed. */
  private static FileChannel lockDataDir(Path data) throws IOException {
    FileChannel ch =
        FileChannel.open(
            data.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = ch.tryLock();
    } catch (java.nio.channels.OverlappingFileLockException e) {
      // Another site in this same JVM holds it.
      lock = null;
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
    if (lock == null) {
      ch.close();
      throw new IOException("data directory " + data + " is in use by another running site");
    }
    return ch;
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.toString() : t.getMessage();
  }

  public String name() {
    return config.name();
  }

  /** The site's UUID, generated at its first start. */
  public String uuid() {
    return admin.state().siteUuid();
  }

  public SiteConfig config() {
    return config;
  }

  /** The REST API base URL, e.g. {@code http://127.0.0.1:7080}. */
  public String apiUrl() {
    return "http://" + HostPort.of(apiAddress).urlHost() + ":" + apiAddress.getPort();
  }

  /** The bearer token the API requires. */
  public String token() {
    return token.value();
  }

  /** The iSCSI portals open now, as bound (real ports, never 0). */
  public List<HostPort> portals() {
    return admin.boundPortals();
  }

  /** The name of the site's default iSCSI target. */
  public String defaultTarget() {
    return config.targetPrefix();
  }

  /**
   * libiscsi URLs ({@code iscsi://host:port/target/lun}) of every mapped LUN through every portal,
   * what {@code duet demo} prints for hosts.
   */
  public List<String> iscsiUrls() {
    Set<String> urls = new LinkedHashSet<>();
    for (HostPort p : admin.boundPortals()) {
      for (SiteState.Mapping m : admin.state().mappings()) {
        urls.add("iscsi://" + p + "/" + m.target() + "/" + m.lun());
      }
    }
    return new ArrayList<>(urls);
  }

  /** The NBD listeners open now, as bound (real ports). */
  public List<HostPort> nbdListeners() {
    return admin.nbd().listeners();
  }

  /** {@code nbd://host:port/export} URLs of every NBD export through every NBD listener. */
  public List<String> nbdUrls() {
    return admin.nbd().urls();
  }

  /**
   * Exports {@code volume} over NBD as {@code name} (null: the volume's name) to loopback clients,
   * what {@code duet demo} does for its volume.
   */
  public void exportNbd(String volume, String name) throws IOException {
    admin.nbd().create(volume, name, null, false);
  }

  /** The replication port as bound ({@code host:port}), or empty without peering. */
  public String replicationAddress() {
    return peering.address();
  }

  /** The consistency groups of this site. */
  ConsistencyGroups groups() {
    return groups;
  }

  /** The volume hosts reach by this name: the replicated one in a group (tests write to it). */
  java.util.Optional<io.duet.store.Volume> served(String volume) {
    return admin.served(volume);
  }

  /** The logical unit of a volume (tests check its ALUA view). */
  java.util.Optional<io.duet.scsi.LogicalUnit> unit(String volume) {
    return admin.unit(volume);
  }

  /** What the iSCSI target asks at login (tests check LUN masking through it). */
  Catalog catalog() {
    return catalog;
  }

  /** Runs {@code listener} for every event from now on, on the thread that caused it. */
  public void addEventListener(Consumer<NodeEvent> listener) {
    events.addListener(listener);
  }

  public void removeEventListener(Consumer<NodeEvent> listener) {
    events.removeListener(listener);
  }

  /** Stops the API, closes every portal and session, and closes the store. Idempotent. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    events.record("site.stopping", config.name(), "site " + config.name() + " stopping");
    closeAll(resources);
  }

  private static void closeAll(Deque<AutoCloseable> resources) {
    while (!resources.isEmpty()) {
      AutoCloseable r = resources.pop();
      try {
        r.close();
      } catch (Exception e) {
        // Shutting down: close what remains rather than stop at the first failure.
        log.warn("closing {} failed: {}", r.getClass().getSimpleName(), e.toString());
      }
    }
  }
}
