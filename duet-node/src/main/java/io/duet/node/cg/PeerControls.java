package io.duet.node.cg;

import io.duet.node.AdminException;
import io.duet.sync.SyncTimers;
import io.duet.sync.link.ControlException;
import io.duet.sync.link.ControlLink;
import io.duet.sync.link.LinkChannels;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.function.BiConsumer;

/**
 * The control links to the paired sites: this site's requests to a peer (with refusals and
 * unreachability turned into the operator's 409 and 503), the peer's requests to {@link
 * PeerRequests}, and a fresh look at a peer's ports each time its link comes up.
 */
final class PeerControls implements AutoCloseable {
  /** How long this site waits for the peer's answer to a control request. */
  static final long CONTROL_TIMEOUT_MS = 20_000;

  /** Answers one peer's request (the peer's site id, the body). */
  interface Handler {
    byte[] handle(UUID peer, byte[] body) throws Exception;
  }

  private final GroupSite site;
  private final ControlWire wire;
  private final SyncTimers timers;
  private final Executor workers;
  private final Handler handler;
  private final BiConsumer<UUID, SiteInfo> peerInfo;
  private final Map<UUID, ControlLink> links = new ConcurrentHashMap<>();

  /**
   * @param peerInfo told a peer's ports, targets and portals each time its link came up
   */
  PeerControls(
      GroupSite site,
      ControlWire wire,
      SyncTimers timers,
      Executor workers,
      Handler handler,
      BiConsumer<UUID, SiteInfo> peerInfo) {
    this.site = site;
    this.wire = wire;
    this.timers = timers;
    this.workers = workers;
    this.handler = handler;
    this.peerInfo = peerInfo;
  }

  /** Opens the control link over a paired site's channels (once per site). */
  void attach(UUID peer, LinkChannels channels) {
    links.computeIfAbsent(
        peer,
        id -> {
          ControlLink c =
              new ControlLink(
                  channels.control(),
                  timers,
                  body -> handler.handle(id, body),
                  workers,
                  ControlLink.MAX_PENDING_DEFAULT,
                  ControlLink.MAX_HANDLING_DEFAULT);
          c.onLinkUp(() -> workers.execute(() -> refresh(id, c)));
          return c;
        });
  }

  /** Asks {@code peer} and waits for the answer; refusals become 409, unreachability 503. */
  byte[] ask(UUID peer, ControlWire.Request request) {
    return ask(peer, request, CONTROL_TIMEOUT_MS);
  }

  /** Like {@link #ask(UUID, ControlWire.Request)}, waiting at most {@code timeoutMs}. */
  byte[] ask(UUID peer, ControlWire.Request request, long timeoutMs) {
    try {
      return link(peer).request(wire.encode(request), timeoutMs).get();
    } catch (ExecutionException x) {
      if (x.getCause() instanceof ControlException c) {
        throw c.unreachable()
            ? AdminException.unavailable("the peer site cannot be reached now: " + c.getMessage())
            : AdminException.conflict("the peer site refused: " + c.getMessage());
      }
      throw new IllegalStateException(x.getCause());
    } catch (InterruptedException x) {
      Thread.currentThread().interrupt();
      throw AdminException.unavailable("interrupted while waiting for the peer site");
    }
  }

  /** Sends a request without waiting for its answer (best effort). */
  void tell(UUID peer, ControlWire.Request request) {
    ControlLink c = links.get(peer);
    if (c != null) {
      c.request(wire.encode(request), CONTROL_TIMEOUT_MS);
    }
  }

  /** The peer's ports, targets and portals. */
  SiteInfo siteInfo(UUID peer) {
    byte[] answer =
        ask(peer, new ControlWire.Request(ControlWire.SITE_INFO, site.info(), null, null, null));
    try {
      return wire.siteInfo(answer);
    } catch (ControlException e) {
      throw AdminException.conflict("the peer site answered badly: " + e.getMessage());
    }
  }

  private ControlLink link(UUID peer) {
    ControlLink c = links.get(peer);
    if (c == null) {
      throw AdminException.unavailable(
          "no link to the peer site (peering is off or it is not paired)");
    }
    return c;
  }

  /** A peer just came back: its ports may have changed with a restart. */
  private void refresh(UUID peer, ControlLink c) {
    try {
      byte[] answer =
          c.request(
                  wire.encode(
                      new ControlWire.Request(
                          ControlWire.SITE_INFO, site.info(), null, null, null)),
                  CONTROL_TIMEOUT_MS)
              .get();
      peerInfo.accept(peer, wire.siteInfo(answer));
    } catch (ExecutionException | ControlException e) {
      // The next link-up tries again; the old information stays meanwhile.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    links.values().forEach(ControlLink::close);
  }
}
