package io.duet.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.duet.testkit.LoadWriter.Attempt;
import io.duet.testkit.LoadWriter.Outcome;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The write checker's two halves: decoding slot contents, and which values a slot may hold. */
class TaggedSlotTest {
  @Test
  void roundTripAndZeros() {
    byte[] twoSlots = new byte[2 * TaggedSlot.BYTES];
    System.arraycopy(
        TaggedSlot.encode(7, 42, 1001), 0, twoSlots, TaggedSlot.BYTES, TaggedSlot.BYTES);
    assertThat(TaggedSlot.decode(twoSlots, 0, 1000)).isEqualTo(TaggedSlot.Found.ZERO);
    TaggedSlot.Found f = TaggedSlot.decode(twoSlots, TaggedSlot.BYTES, 1001);
    assertThat(f.writer()).isEqualTo(7);
    assertThat(f.seq()).isEqualTo(42);
  }

  @Test
  void misplacedTornAndForeignSlotsAreReportedClearly() {
    byte[] s = TaggedSlot.encode(1, 5, 10);
    assertThatThrownBy(() -> TaggedSlot.decode(s, 0, 11))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("torn or misplaced");
    byte[] torn = s.clone();
    System.arraycopy(TaggedSlot.encode(1, 6, 10), 512, torn, 512, 512);
    assertThatThrownBy(() -> TaggedSlot.decode(torn, 0, 10)).hasMessageContaining("torn");
    Random random = new Random(3);
    for (int i = 0; i < 2000; i++) {
      byte[] junk = new byte[TaggedSlot.BYTES];
      random.nextBytes(junk);
      if (i % 2 == 0) {
        // mutate a valid slot in a few random bytes instead
        junk = TaggedSlot.encode(random.nextInt(4), random.nextInt(100), 3);
        for (int k = 0; k < 1 + random.nextInt(4); k++) {
          junk[random.nextInt(junk.length)] ^= (byte) (1 + random.nextInt(255));
        }
      }
      byte[] input = junk;
      assertThatThrownBy(() -> TaggedSlot.decode(input, 0, 3))
          .isInstanceOf(AssertionError.class)
          .hasMessageContaining("slot 3");
    }
  }

  @Test
  void aSlotMayHoldItsLastAcknowledgedWriteOrALaterOne() {
    List<Attempt> history =
        List.of(
            new Attempt(1, 1, 0, 1, Outcome.ACKED),
            new Attempt(1, 2, 2, 3, Outcome.ACKED),
            new Attempt(1, 3, 4, 5, Outcome.FAILED),
            new Attempt(2, 4, 6, 7, Outcome.UNAVAILABLE),
            new Attempt(3, 5, 8, 9, Outcome.FAILED),
            new Attempt(3, 6, 10, 11, Outcome.ACKED),
            new Attempt(3, 7, 12, 13, Outcome.UNAVAILABLE));
    Map<Long, Set<Long>> allowed = WriteChecker.allowed(history);
    assertThat(allowed.get(1L)).containsExactlyInAnyOrder(2L, 3L);
    assertThat(allowed.get(2L))
        .as("never acknowledged: zeros or the attempt")
        .containsExactlyInAnyOrder(-1L, 4L);
    assertThat(allowed.get(3L))
        .as("the failed write before the ack is gone")
        .containsExactlyInAnyOrder(6L, 7L);
    assertThat(WriteChecker.regions(history)).containsExactly(0L);
    assertThat(WriteChecker.regions(List.of(new Attempt(16, 1, 0, 0, Outcome.ACKED))))
        .containsExactly(1L);
  }
}
