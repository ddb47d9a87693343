package io.duet.node;

import io.duet.node.config.HostPort;
import io.duet.node.config.SiteConfig;
import io.duet.sync.link.LinkChannels;
import io.duet.sync.link.LinkSettings;
import io.duet.sync.link.ReplicationPortListener;
import io.duet.sync.link.Sleeper;
import io.duet.sync.link.TlsTransport;
import io.duet.sync.peering.Invitation;
import io.duet.sync.peering.Invitations;
import io.duet.sync.peering.PairingClient;
import io.duet.sync.peering.PairingException;
import io.duet.sync.peering.PairingResponder;
import io.duet.sync.peering.PeerRecord;
import io.duet.sync.peering.PeerStore;
import io.duet.sync.peering.SiteIdentity;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * The site's peerings: its replication identity, the paired sites, the open invitation, the
 * replication port and one {@link TlsTransport} per paired site, kept up for as long as the node
 * runs. Keys and peers live in {@code <data dir>/peering/}. Without a {@code replication} address
 * in site.yaml nothing listens and every peering request is refused with a clear message.
 */
final class Peering implements AutoCloseable {
  static final String DIR = "peering";

  /** A pairing does PBKDF2 and two round trips; generous for a loaded machine or a slow WAN. */
  private static final int PAIRING_TIMEOUT_MS = 30_000;

  private final EventLog events;
  private final SecureRandom random;
  private final PeerStore store;
  private final Map<UUID, TlsTransport> links;

  /** Per paired site, outliving link replacements: the groups' and control channels. */
  private final Map<UUID, LinkChannels> channels = new ConcurrentHashMap<>();

  private final LinkSettings settings;
  private final SiteIdentity identity;
  private final Invitations invitations;
  private final ReplicationPortListener listener;
  private final String advertised;
  private volatile boolean closed;
  private volatile Function<UUID, Optional<String>> groupWithPeer = id -> Optional.empty();
  private final List<BiConsumer<UUID, LinkChannels>> channelListeners =
      new CopyOnWriteArrayList<>();

  private Peering(
      EventLog events,
      SecureRandom random,
      PeerStore store,
      Map<UUID, TlsTransport> links,
      LinkSettings settings,
      SiteIdentity identity,
      Invitations invitations,
      ReplicationPortListener listener,
      String advertised) {
    this.events = events;
    this.random = random;
    this.store = store;
    this.links = links;
    this.settings = settings;
    this.identity = identity;
    this.invitations = invitations;
    this.listener = listener;
    this.advertised = advertised;
  }

  /** Opens the peer store and, if a replication address is configured, the replication port. */
  static Peering start(SiteConfig config, UUID siteId, EventLog events, Clock clock)
      throws IOException {
    Path dir = config.dataDir().resolve(DIR);
    SecureRandom random = new SecureRandom();
    PeerStore store = PeerStore.open(dir);
    if (config.replication().isEmpty()) {
      return new Peering(
          events, random, store, Map.of(), LinkSettings.DEFAULTS, null, null, null, "");
    }
    HostPort bind = config.replication().get();
    SiteIdentity identity =
        SiteIdentity.loadOrCreate(dir, config.name(), siteId, random, clock.instant());
    Invitations invitations = new Invitations(clock, random);
    Map<UUID, TlsTransport> links = new ConcurrentHashMap<>();
    PairingResponder responder =
        new PairingResponder(
            identity,
            store,
            invitations,
            random,
            (remote, e) ->
                events.record(
                    "peer.pairing.refused",
                    remote,
                    "pairing from " + remote + " refused: " + e.getMessage()));
    ReplicationPortListener listener =
        ReplicationPortListener.start(
            new InetSocketAddress(bind.host(), bind.port()),
            identity,
            store,
            responder,
            id -> Optional.ofNullable(links.get(id)),
            LinkSettings.DEFAULTS,
            random);
    // A wildcard bind cannot be dialed back; the peer then relies on this site dialing it.
    String advertised =
        bind.wildcard() ? "" : new HostPort(bind.host(), listener.port()).toString();
    Peering p =
        new Peering(
            events,
            random,
            store,
            links,
            LinkSettings.DEFAULTS,
            identity,
            invitations,
            listener,
            advertised);
    store.onAdded(
        peer -> {
          events.record(
              "peer.paired",
              peer.name(),
              "paired with site "
                  + peer.name()
                  + " ("
                  + peer.siteId()
                  + "), certificate "
                  + peer.fingerprint());
          p.startLink(peer);
        });
    for (PeerRecord peer : store.list()) {
      p.startLink(peer);
    }
    return p;
  }

  private synchronized void startLink(PeerRecord peer) {
    if (closed) {
      return;
    }
    TlsTransport old = links.remove(peer.siteId());
    if (old != null) {
      old.close();
    }
    TlsTransport t =
        new TlsTransport(
            identity,
            peer,
            settings,
            Sleeper.SYSTEM,
            random,
            (p, up, detail) ->
                events.record(
                    up ? "peer.link.up" : "peer.link.down",
                    p.name(),
                    "link to " + p.name() + (up ? " up (" : " down (") + detail + ")"));
    links.put(peer.siteId(), t);
    LinkChannels c =
        channels.computeIfAbsent(
            peer.siteId(), id -> new LinkChannels(LinkChannels.MAX_CHANNELS_DEFAULT));
    c.attach(t);
    channelListeners.forEach(l -> l.accept(peer.siteId(), c));
    t.start();
  }

  boolean enabled() {
    return listener != null;
  }

  private void requireEnabled() {
    if (!enabled()) {
      throw AdminException.conflict(
          "peering needs a replication address: add 'replication: HOST:PORT' to site.yaml and"
              + " restart the site");
    }
  }

  /** The replication port as bound, or empty. */
  String address() {
    return advertised.isEmpty() && listener != null
        ? HostPort.of(listener.address()).toString()
        : advertised;
  }

  Views.Invitation invite() {
    requireEnabled();
    Invitation inv = invitations.create();
    events.record(
        "peer.invited",
        identity.name(),
        "pairing invitation created, valid until "
            + inv.expiresAt()
            + " ("
            + inv.attempts()
            + " attempts)");
    return new Views.Invitation(
        inv.passphrase(), inv.expiresAt().toString(), inv.attempts(), address());
  }

  Views.Peer create(String address, String passphrase) {
    requireEnabled();
    if (address == null || address.isBlank()) {
      throw AdminException.invalid(
          "address is required (HOST:PORT of the peer's replication port)");
    }
    try {
      io.duet.sync.peering.PeerAddress.parse(address);
    } catch (IllegalArgumentException e) {
      throw AdminException.invalid(e.getMessage());
    }
    try {
      PeerRecord peer =
          new PairingClient(identity, store, advertised, random, PAIRING_TIMEOUT_MS)
              .pair(address.strip(), passphrase);
      return view(peer);
    } catch (PairingException e) {
      events.record(
          "peer.pairing.failed", address, "pairing with " + address + " failed: " + e.getMessage());
      throw switch (e.reason()) {
        case UNREACHABLE -> AdminException.unavailable(e.getMessage());
        case NOT_CONFIGURED, PROTOCOL -> AdminException.invalid(e.getMessage());
        default -> AdminException.conflict(e.getMessage());
      };
    }
  }

  List<Views.Peer> list() {
    return store.list().stream()
        .sorted(Comparator.comparing(PeerRecord::name))
        .map(this::view)
        .toList();
  }

  Views.Peer peer(String name) {
    return view(
        store.byName(name).orElseThrow(() -> AdminException.notFound("no peer named " + name)));
  }

  /** Refuses to delete a peer that a consistency group still replicates with. */
  void guard(Function<UUID, Optional<String>> groupWithPeer) {
    this.groupWithPeer = groupWithPeer;
  }

  void delete(String name) throws IOException {
    PeerRecord known =
        store.byName(name).orElseThrow(() -> AdminException.notFound("no peer named " + name));
    Optional<String> group = groupWithPeer.apply(known.siteId());
    if (group.isPresent()) {
      throw AdminException.conflict(
          "consistency group '" + group.get() + "' replicates with " + name + "; delete it first");
    }
    PeerRecord peer =
        store.remove(name).orElseThrow(() -> AdminException.notFound("no peer named " + name));
    TlsTransport t = enabled() ? links.remove(peer.siteId()) : null;
    if (t != null) {
      t.close();
    }
    // The site's channels stay (their link is closed): if it pairs again, the same channels, and
    // the control link the groups hold on them, attach to the new link.
    events.record("peer.deleted", name, "peering with " + name + " deleted");
  }

  /** The link to a paired site, for the replication core; empty if not paired or disabled. */
  Optional<TlsTransport> link(UUID siteId) {
    return Optional.ofNullable(links.get(siteId));
  }

  /**
   * The channels (one per consistency group, plus control) over the link to a paired site; empty if
   * not paired or peering is disabled.
   */
  Optional<LinkChannels> channels(UUID siteId) {
    return Optional.ofNullable(channels.get(siteId));
  }

  /**
   * Runs {@code listener} for the channels of every paired site, now and whenever a site pairs (the
   * consistency groups serve the peer's control requests on them).
   */
  synchronized void onChannels(BiConsumer<UUID, LinkChannels> listener) {
    channelListeners.add(listener);
    channels.forEach(listener);
  }

  /** The paired site named {@code name}. */
  Optional<PeerRecord> byName(String name) {
    return store.byName(name);
  }

  /** The paired site with UUID {@code siteId}. */
  Optional<PeerRecord> byId(UUID siteId) {
    return store.byId(siteId);
  }

  /** This site's own name as its peers know it. */
  String siteName() {
    return identity == null ? "" : identity.name();
  }

  private Views.Peer view(PeerRecord p) {
    Optional<TlsTransport> t = link(p.siteId());
    String state = !enabled() ? "disabled" : t.map(x -> x.isUp() ? "up" : "down").orElse("down");
    return new Views.Peer(
        p.name(),
        p.siteId().toString(),
        p.address(),
        p.fingerprint(),
        state,
        t.map(TlsTransport::lastError).orElse(""));
  }

  @Override
  public synchronized void close() {
    closed = true;
    if (listener != null) {
      listener.close();
    }
    if (enabled()) {
      links.values().forEach(TlsTransport::close);
      links.clear();
    }
  }
}
