package io.duet.sync.link;

import io.duet.sync.Transport;
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
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

/** One site of a link test: identity, peer store, invitations and a replication listener. */
final class LinkSite implements AutoCloseable {
  static final LinkSettings FAST =
      LinkSettings.DEFAULTS.withTimers(100, 1_000, 20, 200).withLimits(1 << 20, 256);

  final SiteIdentity identity;
  final PeerStore store;
  final MutableClock clock = new MutableClock();
  final Invitations invitations;
  final PairingResponder responder;
  final List<PairingException> refusals = new CopyOnWriteArrayList<>();
  final ReplicationPortListener listener;
  final Map<UUID, TlsTransport> links = new ConcurrentHashMap<>();
  final SecureRandom random;

  LinkSite(Path dir, String name, UUID id) throws IOException {
    random = new SecureRandom();
    identity =
        SiteIdentity.loadOrCreate(dir, name, id, random, Instant.parse("2026-01-01T00:00:00Z"));
    store = PeerStore.open(dir);
    invitations = new Invitations(clock, random, Duration.ofMinutes(15), 5, 10_000);
    responder =
        new PairingResponder(identity, store, invitations, random, (r, e) -> refusals.add(e));
    listener =
        ReplicationPortListener.start(
            new InetSocketAddress("127.0.0.1", 0),
            identity,
            store,
            responder,
            uuid -> Optional.ofNullable(links.get(uuid)),
            FAST,
            random);
  }

  String address() {
    return "127.0.0.1:" + listener.port();
  }

  PeerRecord pairWith(LinkSite other, String passphrase) throws PairingException {
    return new PairingClient(identity, store, address(), random, 10_000)
        .pair(other.address(), passphrase);
  }

  /** Starts a link to {@code peer} (as stored), with {@code receiver} recording what arrives. */
  TlsTransport link(PeerRecord peer, Recorder receiver) {
    TlsTransport t =
        new TlsTransport(identity, peer, FAST, Sleeper.SYSTEM, random, LinkObserver.NONE);
    t.setReceiver(receiver);
    links.put(peer.siteId(), t);
    t.start();
    return t;
  }

  @Override
  public void close() {
    links.values().forEach(TlsTransport::close);
    listener.close();
  }

  static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(5);
    }
  }

  /** A clock tests move by hand. */
  static final class MutableClock extends Clock {
    final AtomicReference<Instant> now =
        new AtomicReference<>(Instant.parse("2026-01-01T00:00:00Z"));

    void advance(Duration d) {
      now.updateAndGet(t -> t.plus(d));
    }

    @Override
    public Instant instant() {
      return now.get();
    }

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }
  }

  /** Records what a transport delivers, checking that calls never overlap. */
  static final class Recorder implements Transport.Receiver {
    final LinkedBlockingQueue<String> events = new LinkedBlockingQueue<>();
    final List<byte[]> frames = new CopyOnWriteArrayList<>();
    volatile int ups;
    volatile int downs;
    private volatile boolean inside;

    private void enter() {
      if (inside) {
        throw new AssertionError("overlapping receiver calls");
      }
      inside = true;
    }

    @Override
    public void onFrame(byte[] frame) {
      enter();
      frames.add(frame);
      inside = false;
    }

    @Override
    public void onLinkUp() {
      enter();
      ups++;
      events.add("up");
      inside = false;
    }

    @Override
    public void onLinkDown() {
      enter();
      downs++;
      events.add("down");
      inside = false;
    }

    /** The link events so far, as "up,down,up". */
    String history() {
      return String.join(",", events);
    }
  }
}
