package io.duet.node;

import io.duet.iscsi.IscsiServer;
import io.duet.node.config.HostPort;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The iSCSI portals this site has open, kept in step with the catalog so discovery announces
 * exactly the bound addresses. Changes are made under the admin lock; reads need no lock.
 */
final class Portals {
  /** An open portal: the address as bound, its socket address, and whether site.yaml names it. */
  record Open(HostPort bound, InetSocketAddress socket, boolean fromConfig) {
    Views.Portal view(int portalGroupTag) {
      return new Views.Portal(bound.toString(), portalGroupTag, fromConfig ? "config" : "api");
    }
  }

  private final IscsiServer iscsi;
  private final Catalog catalog;
  private final int portalGroupTag;
  private final List<Open> open = new CopyOnWriteArrayList<>();

  Portals(IscsiServer iscsi, Catalog catalog, int portalGroupTag) {
    this.iscsi = iscsi;
    this.catalog = catalog;
    this.portalGroupTag = portalGroupTag;
  }

  Open open(HostPort requested, boolean fromConfig) throws IOException {
    InetSocketAddress bound = iscsi.listen(requested.toSocketAddress(), portalGroupTag);
    Open p = new Open(HostPort.of(bound), bound, fromConfig);
    open.add(p);
    catalog.portals(bound());
    return p;
  }

  /** Stops announcing the portal, then closes it (its sessions stay until they log out). */
  void close(Open p) throws IOException {
    open.remove(p);
    catalog.portals(bound());
    iscsi.closePortal(p.socket());
  }

  /** The portal bound at {@code address}, by its text or by its resolved socket address. */
  Optional<Open> find(HostPort address) {
    return open.stream()
        .filter(p -> p.bound().equals(address) || (address.port() != 0 && sameSocket(p, address)))
        .findFirst();
  }

  private static boolean sameSocket(Open p, HostPort address) {
    InetSocketAddress a = address.toSocketAddress();
    return !a.isUnresolved() && a.equals(p.socket());
  }

  List<HostPort> bound() {
    return open.stream().map(Open::bound).toList();
  }

  List<Views.Portal> views() {
    return open.stream().map(p -> p.view(portalGroupTag)).toList();
  }
}
