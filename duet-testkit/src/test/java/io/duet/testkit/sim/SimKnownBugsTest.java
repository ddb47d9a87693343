package io.duet.testkit.sim;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

/**
 * The duet-sync bugs of {@link KnownBugs}, each replayed by the seed that found it. The disabled
 * tests assert the run is clean: enable one when its bug is fixed, and move its seed into
 * {@code sim/regressions.txt}. The enabled one shows the simulator detects a broken guarantee
 * end to end (it must keep failing for as long as KB-2 is not fixed).
 */
class SimKnownBugsTest {
  static final long KB1_SEED = 7002636727014905519L;
  static final long KB2_SEED = 890745616000058872L;

  @Test
  void simulatorDetectsLeaderPowerLossLosingAcknowledgedWrites() {
    SimResult r = SimWorld.run(KB2_SEED, false, true);
    assertThat(r.knownBugs()).anyMatch(k -> k.startsWith("KB-2"));
    assertThat(r.violations()).anyMatch(v -> v.startsWith("G2"));
  }

  @Test
  @Disabled("KB-1: LeaderPipeline.cover marks land after the resync finished (duet-sync bug)")
  void coverMarksBeforeTheResyncScans() {
    SimResult r = SimWorld.run(KB1_SEED, false);
    assertThat(r.knownBugs()).as(r.report()).isEmpty();
    assertThat(r.violations()).as(r.report()).isEmpty();
  }

  @Test
  @Disabled("KB-2: a restarted leader resyncs its lost un-flushed writes to the follower")
  void leaderPowerLossLosesNothing() {
    SimResult r = SimWorld.run(KB2_SEED, false, true);
    assertThat(r.violations()).as(r.report()).isEmpty();
  }
}
