package io.duet.testkit.proxy;

/**
 * One direction of a proxied link. {@link #UPSTREAM} carries bytes from the connecting client (A)
 * to the proxy's target (B); {@link #DOWNSTREAM} carries the target's replies back to the client.
 */
public enum Direction {
  /** Client to target (A→B). */
  UPSTREAM,
  /** Target to client (B→A). */
  DOWNSTREAM
}
