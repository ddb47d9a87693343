package io.duet.sync.link;

import io.duet.sync.Transport;
import io.duet.sync.peering.PeerRecord;
import java.nio.file.Path;
import java.util.UUID;

/**
 * Two paired sites' TLS links to each other on loopback, for tests outside this package that want
 * the production transport (the write-path measurements). Receivers are installed by the user.
 */
public final class TlsPair implements AutoCloseable {
  private final LinkSite siteA;
  private final LinkSite siteB;
  private final TlsTransport toB;
  private final TlsTransport toA;

  private TlsPair(Path dir, UUID a, UUID b) throws Exception {
    siteA = new LinkSite(dir.resolve("link-a"), "alpha", a);
    siteB = new LinkSite(dir.resolve("link-b"), "beta", b);
    PeerRecord bAtA = siteA.pairWith(siteB, siteB.invitations.create().passphrase());
    PeerRecord aAtB = siteB.store.byName("alpha").orElseThrow();
    toB = start(siteA, bAtA);
    toA = start(siteB, aAtB);
  }

  private static TlsTransport start(LinkSite site, PeerRecord peer) {
    TlsTransport t =
        new TlsTransport(
            site.identity,
            peer,
            LinkSettings.DEFAULTS,
            Sleeper.SYSTEM,
            site.random,
            LinkObserver.NONE);
    t.setReceiver(new LinkSite.Recorder());
    site.links.put(peer.siteId(), t);
    t.start();
    return t;
  }

  /** Pairs sites {@code a} and {@code b} (their ids) under {@code dir}; starts both links. */
  public static TlsPair open(Path dir, UUID a, UUID b) throws Exception {
    return new TlsPair(dir, a, b);
  }

  /** Site A's link to B. */
  public Transport atA() {
    return toB;
  }

  /** Site B's link to A. */
  public Transport atB() {
    return toA;
  }

  /** Whether both links are up. */
  public boolean up() {
    return toB.isUp() && toA.isUp();
  }

  @Override
  public void close() {
    siteA.close();
    siteB.close();
  }
}
