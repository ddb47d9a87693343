package io.duet.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.duet.store.Volume;
import io.duet.sync.proto.FrameCodec;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Writes, unmaps and zeroings larger than one frame are replicated in chunks, never refused. */
class LargeWriteTest {
  private static final long VOLUME = 48L << 20;
  private static final long SEED = Long.getLong("duet.seed", 424242L);
  @TempDir Path dir;

  private static ByteBuffer pattern(Random random, int length, boolean direct) {
    byte[] bytes = new byte[length];
    random.nextBytes(bytes);
    ByteBuffer b = direct ? ByteBuffer.allocateDirect(length) : ByteBuffer.allocate(length);
    return b.put(bytes).flip();
  }

  private static void assertReads(TestSite site, long offset, ByteBuffer expected)
      throws Exception {
    ByteBuffer got = ByteBuffer.allocate(expected.remaining());
    site.volume(0).read(offset, got);
    assertThat(got.flip().mismatch(expected.duplicate()))
        .as("first differing byte read at %s", site.name)
        .isEqualTo(-1);
  }

  @Test
  void writesUnmapsAndZeroesBeyondTheFrameLimitReachBothSites() throws Exception {
    Random random = new Random(SEED);
    try (ReplicationHarness h =
        new ReplicationHarness(dir, 1, TestSite.FAST, s -> s.volumeBytes = VOLUME)) {
      h.awaitInSync();
      // From the follower: 33 MiB + 8 KiB at an offset that is not chunk-aligned (NBD's 32 MiB+).
      int big = FrameCodec.MAX_DATA_BYTES * 2 + (1 << 20) + 8192;
      ByteBuffer fromB = pattern(random, big, true);
      h.b.volume(0).write(4096, fromB.duplicate(), false);
      ByteBuffer consumed = fromB.duplicate();
      h.b.volume(0).write(4096, consumed, true); // again, with FUA, and the buffer is consumed
      assertThat(consumed.hasRemaining()).isFalse();
      assertReads(h.a, 4096, fromB);
      assertReads(h.b, 4096, fromB);

      // From the leader, overlapping the end of the first.
      ByteBuffer fromA = pattern(random, 20 << 20, false);
      h.a.volume(0).write(24L << 20, fromA.duplicate(), false);
      assertReads(h.b, 24L << 20, fromA);
      h.assertIdentical();

      h.b.volume(0).writeZeroes(0, 40L << 20, false);
      assertReads(h.a, 0, ByteBuffer.allocate(40 << 20));
      h.a.volume(0).unmap(4096, VOLUME - 8192);
      assertReads(h.b, 0, ByteBuffer.allocate((int) VOLUME));
      h.assertIdentical();

      for (TestSite s : java.util.List.of(h.a, h.b)) {
        assertThat(s.replicator.dataBudget.availableBytes())
            .as("write data budget given back at %s", s.name)
            .isEqualTo(DataBudget.DEFAULT_BYTES);
      }
      assertThatThrownBy(
              () ->
                  h.a
                      .volume(0)
                      .writeAtomic(
                          0, ByteBuffer.allocate(Volume.MAX_ATOMIC_WRITE_BYTES + 4096), false))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }
}
