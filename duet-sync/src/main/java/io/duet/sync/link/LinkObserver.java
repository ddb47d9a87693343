package io.duet.sync.link;

import io.duet.sync.peering.PeerRecord;

/**
 * Told of each link transition (after the transport's receiver), for status and events. Called with
 * the transport's delivery lock held: must not block or call back into the transport's close.
 */
@FunctionalInterface
public interface LinkObserver {
  void onLinkState(PeerRecord peer, boolean up, String detail);

  /** Ignores everything. */
  LinkObserver NONE = (peer, up, detail) -> {};
}
