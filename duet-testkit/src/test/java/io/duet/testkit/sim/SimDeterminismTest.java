package io.duet.testkit.sim;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** One seed decides everything: the same seed replays the same run, event for event. */
class SimDeterminismTest {
  @Test
  void sameSeedSameRun() {
    for (long seed : new long[] {1, 3, 7002636727014905519L}) {
      SimResult first = SimWorld.run(seed, false);
      SimResult second = SimWorld.run(seed, false);
      assertThat(second.summary()).isEqualTo(first.summary());
      assertThat(second.traceTail()).isEqualTo(first.traceTail());
      assertThat(second.violations()).isEqualTo(first.violations());
    }
  }

  @Test
  void differentSeedsDifferentRuns() {
    assertThat(SimWorld.run(11, false).summary()).isNotEqualTo(SimWorld.run(12, false).summary());
  }
}
