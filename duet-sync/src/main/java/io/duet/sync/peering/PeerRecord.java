package io.duet.sync.peering;

import java.security.cert.X509Certificate;
import java.util.Objects;
import java.util.UUID;

/**
 * A paired site as this site remembers it: its name and UUID, the certificate pinned at pairing and
 * the address to dial it on ({@code HOST:PORT}, possibly a proxy's; empty when the peer did not
 * advertise one, in which case only the peer dials).
 */
public record PeerRecord(String name, UUID siteId, String address, X509Certificate certificate) {
  public PeerRecord {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(siteId, "siteId");
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(certificate, "certificate");
  }

  /** SHA-256 fingerprint of the pinned certificate, lowercase hex. */
  public String fingerprint() {
    return SiteIdentity.fingerprint(certificate);
  }

  /** The same peer at another address. */
  public PeerRecord withAddress(String newAddress) {
    return new PeerRecord(name, siteId, newAddress, certificate);
  }
}
