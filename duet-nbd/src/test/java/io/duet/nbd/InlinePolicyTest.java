package io.duet.nbd;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class InlinePolicyTest {
  private static final Request READ_4K = new Request(0, Nbd.CMD_READ, 1, 0, 4096);
  private static final long QUICK_NS = 10_000;
  private static final long SLOW_NS = 5_000_000;

  @Test
  void aLoneRequestRunsInlineWhateverItIs() {
    InlinePolicy p = new InlinePolicy();
    for (int i = 0; i < 20; i++) {
      p.served(4096, SLOW_NS);
    }
    assertThat(p.inline(new Request(0, Nbd.CMD_FLUSH, 1, 0, 0), 0, false)).isTrue();
    assertThat(p.inline(READ_4K, 0, false)).isTrue();
  }

  @Test
  void quickRequestsRunInlineEvenWhenPipelined() {
    InlinePolicy p = new InlinePolicy();
    for (int i = 0; i < 1000; i++) {
      p.served(4096, QUICK_NS);
    }
    assertThat(p.inline(READ_4K, 5, true)).isTrue();
    assertThat(p.inline(new Request(0, Nbd.CMD_WRITE, 1, 0, 64 << 10), 5, true)).isTrue();
  }

  @Test
  void largeRequestsGoToWorkersUnlessAlone() {
    InlinePolicy p = new InlinePolicy();
    Request big = new Request(0, Nbd.CMD_WRITE, 1, 0, InlinePolicy.INLINE_BYTES_MAX + 512);
    assertThat(p.inline(big, 1, false)).isFalse();
    assertThat(p.inline(big, 0, true)).isFalse();
    assertThat(p.inline(big, 0, false)).isTrue();
  }

  @Test
  void slowByNatureGoesToWorkersWhenOthersAreInFlight() {
    InlinePolicy p = new InlinePolicy();
    assertThat(p.inline(new Request(0, Nbd.CMD_FLUSH, 1, 0, 0), 1, false)).isFalse();
    assertThat(p.inline(new Request(Nbd.CMD_FLAG_FUA, Nbd.CMD_WRITE, 1, 0, 4096), 0, true))
        .isFalse();
    assertThat(p.inline(new Request(0, Nbd.CMD_TRIM, 1, 0, 4096), 2, true)).isFalse();
    assertThat(p.inline(new Request(0, Nbd.CMD_BLOCK_STATUS, 1, 0, 4096), 2, true)).isFalse();
  }

  @Test
  void aBurstOfSlowRequestsMovesToWorkersAndQuickOnesBringItBack() {
    InlinePolicy p = new InlinePolicy();
    int bursts = InlinePolicy.SCORE_TO_WORKERS / InlinePolicy.SLOW_WEIGHT;
    for (int i = 0; i < bursts; i++) {
      assertThat(p.inline(READ_4K, 3, true)).isTrue();
      p.served(4096, SLOW_NS);
    }
    assertThat(p.inline(READ_4K, 3, true)).isFalse();
    int steps = 0;
    while (!p.inline(READ_4K, 3, true)) {
      p.served(4096, QUICK_NS);
      steps++;
      assertThat(steps).isLessThanOrEqualTo(InlinePolicy.SCORE_MAX);
    }
    assertThat(steps).isPositive();
  }

  @Test
  void anOccasionalSlowRequestDoesNotMoveToWorkers() {
    InlinePolicy p = new InlinePolicy();
    for (int i = 0; i < 10_000; i++) {
      p.served(4096, i % 10 == 0 ? SLOW_NS : QUICK_NS);
      assertThat(p.inline(READ_4K, 3, true)).isTrue();
    }
  }

  @Test
  void theBudgetGrowsWithTheSize() {
    InlinePolicy p = new InlinePolicy();
    long oneMiBCopy = InlinePolicy.BUDGET_BASE_NANOS + 900 * InlinePolicy.BUDGET_NANOS_PER_KIB;
    for (int i = 0; i < 100; i++) {
      p.served(1 << 20, oneMiBCopy);
    }
    assertThat(p.quick()).isTrue();
    for (int i = 0; i < 100; i++) {
      p.served(4096, oneMiBCopy);
    }
    assertThat(p.quick()).isFalse();
  }
}
