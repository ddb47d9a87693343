package io.duet.sync.peering;

import java.time.Instant;

/**
 * A one-time pairing invitation as shown to the operator: the passphrase (shown once, never stored)
 * and when it stops working.
 */
public record Invitation(String passphrase, Instant expiresAt, int attempts) {
  @Override
  public String toString() {
    return "Invitation[expiresAt=" + expiresAt + ", attempts=" + attempts + "]";
  }
}
