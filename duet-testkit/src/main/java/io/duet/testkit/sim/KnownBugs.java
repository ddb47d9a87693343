package io.duet.testkit.sim;

/**
 * duet-sync bugs the simulator found that are not fixed yet. A run in which one fires is reported
 * with its violations but does not fail the default test (they would drown new findings); {@code
 * -Dduet.sim.strict=true} fails on them too. Remove an entry when its bug is fixed.
 */
final class KnownBugs {
  /**
   * When a session comes back while the leader waits out the follower's lease (PeerState.LOST),
   * {@code goAlone()} marks the unacknowledged writes dirty asynchronously ({@code
   * LeaderPipeline.cover}), but the follower's DirtyDone is already queued behind the session
   * handshake: the resync scans a map without those marks, copies nothing, and declares the
   * follower recovered; the marks land afterwards, the leader is IN_SYNC with dirty regions that
   * never clear, and the follower may serve without the writes. First seen with seed
   * 7002636727014905519.
   */
  static final String KB1_COVER_AFTER_RESYNC = "KB-1 cover marks land after the resync";

  /**
   * A leader that loses power restarts as the leader and resyncs the regions of its activity log
   * from itself to the follower, although its own copy of them lost its un-flushed (acknowledged)
   * writes or holds torn blocks, and the follower held them: acknowledged writes are lost and torn
   * blocks are served (G1, G2). The simulator injects power loss only at the follower unless
   * {@code -Dduet.sim.leaderPowerLoss=true}. First seen with seed 890745616000058872.
   */
  static final String KB2_LEADER_POWER_LOSS = "KB-2 leader power loss resyncs lost data";

  private KnownBugs() {}

  /** Whether runs in which known bugs fired fail too. */
  static boolean strict() {
    return Boolean.getBoolean("duet.sim.strict");
  }

  /** Whether a power loss may strike the leader (exposes KB-2). */
  static boolean leaderPowerLoss() {
    return Boolean.getBoolean("duet.sim.leaderPowerLoss");
  }
}
