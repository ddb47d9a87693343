package io.duet.iscsi;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * The iSCSI target of one site (RFC 7143): listens on one or more portals, runs login, discovery
 * and full-feature sessions, one virtual thread per connection reader and per in-flight command.
 *
 * <p>CONTRACT SKELETON — the implementation replaces these bodies.
 */
public final class IscsiServer implements AutoCloseable {

  /** A session as status shows it. */
  public record SessionInfo(
      String initiatorName,
      String isid,
      int tsih,
      String targetName,
      String remoteAddress,
      String localAddress,
      long commands) {}

  public IscsiServer(TargetCatalog catalog) {
    throw new UnsupportedOperationException("skeleton");
  }

  /**
   * Opens a portal. Port 0 picks a free port.
   *
   * @return the address actually bound
   */
  public InetSocketAddress listen(InetSocketAddress address, int portalGroupTag)
      throws IOException {
    throw new UnsupportedOperationException("skeleton");
  }

  /** Closes a portal opened by {@link #listen}; its sessions stay until they log out. */
  public void closePortal(InetSocketAddress bound) throws IOException {
    throw new UnsupportedOperationException("skeleton");
  }

  public List<SessionInfo> sessions() {
    throw new UnsupportedOperationException("skeleton");
  }

  /** Closes every portal and connection. */
  @Override
  public void close() {
    throw new UnsupportedOperationException("skeleton");
  }
}
