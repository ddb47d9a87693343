package io.duet.sync.digest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.duet.store.ForwardingVolume;
import io.duet.store.LocalVolume;
import io.duet.store.OutOfRangeException;
import io.duet.store.Volume;
import io.duet.store.VolumeStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RegionDigestsTest {
  private static final int R = 64 * 1024;
  private static final long SIZE = 20L * R + 8192; // a short last region

  @TempDir Path dir;
  private VolumeStore store;
  private LocalVolume a;
  private LocalVolume b;
  private final ByteBuffer scratch = ByteBuffer.allocateDirect(R);

  @BeforeEach
  void setUp() throws IOException {
    store = VolumeStore.open(dir);
    a = store.create("a", SIZE, 4096);
    b = store.create("b", SIZE, 4096);
  }

  @AfterEach
  void tearDown() throws IOException {
    store.close();
  }

  @Test
  void equalDataHasEqualDigestsAndOneFlippedByteDiffers() throws IOException {
    byte[] data = randomBytes(1, 3 * R);
    a.write(2L * R, ByteBuffer.wrap(data), false);
    b.write(2L * R, ByteBuffer.wrap(data), false);
    long[] da = RegionDigests.digests(a, 0, R, 21, scratch);
    long[] db = RegionDigests.digests(b, 0, R, 21, scratch);
    assertThat(da).isEqualTo(db);
    assertThat(da[2]).isNotEqualTo(da[3]);

    data[R + 777] ^= 0x10; // inside region 3
    b.write(2L * R, ByteBuffer.wrap(data), false);
    long[] flipped = RegionDigests.digests(b, 0, R, 21, scratch);
    for (int i = 0; i < 21; i++) {
      if (i == 3) {
        assertThat(flipped[i]).isNotEqualTo(da[i]);
      } else {
        assertThat(flipped[i]).as("region %d", i).isEqualTo(da[i]);
      }
    }
  }

  @Test
  void holesAndWrittenZerosHaveTheSameDigest() throws IOException {
    b.write(5L * R, ByteBuffer.allocate(R), false); // allocated zeros
    b.writeZeroes(6L * R, R, false);
    assertThat(b.allocation(5L * R, R).allocated()).isTrue();
    assertThat(a.allocation(5L * R, R).allocated()).isFalse();
    long hole = RegionDigests.digest(a, 5L * R, R, scratch);
    assertThat(RegionDigests.digest(b, 5L * R, R, scratch)).isEqualTo(hole);
    assertThat(RegionDigests.digest(b, 6L * R, R, scratch)).isEqualTo(hole);
    assertThat(hole).isEqualTo(RegionDigests.zeroDigest(R));
    assertThat(RegionDigests.digest(ByteBuffer.allocate(R))).isEqualTo(hole);
    // The short last region too, in the batch form.
    long[] all = RegionDigests.digests(a, 0, R, 21, scratch);
    assertThat(all[20]).isEqualTo(RegionDigests.zeroDigest(8192));
    assertThat(all).containsOnly(hole, RegionDigests.zeroDigest(8192));
  }

  @Test
  void partlyAllocatedRegionMatchesTheSameBytesFullyWritten() throws IOException {
    byte[] half = randomBytes(2, R / 2);
    a.write(7L * R + R / 2, ByteBuffer.wrap(half), false); // first half stays a hole
    byte[] full = new byte[R];
    System.arraycopy(half, 0, full, R / 2, half.length);
    b.write(7L * R, ByteBuffer.wrap(full), false);
    assertThat(RegionDigests.digest(a, 7L * R, R, scratch))
        .isEqualTo(RegionDigests.digest(b, 7L * R, R, scratch))
        .isEqualTo(RegionDigests.digest(ByteBuffer.wrap(full)));
    assertThat(RegionDigests.digests(a, 6L * R, R, 3, scratch))
        .isEqualTo(RegionDigests.digests(b, 6L * R, R, 3, scratch));
  }

  @Test
  void batchMatchesSingleDigestsAndReadsOnlyAllocatedRegions() throws IOException {
    Random random = new Random(3);
    for (int i = 0; i < 6; i++) {
      long region = random.nextInt(21);
      long len = Math.min(4096 * (1 + random.nextInt(16)), SIZE - region * R);
      a.write(region * R, ByteBuffer.wrap(randomBytes(i, (int) len)), false);
    }
    CountingVolume counted = new CountingVolume(a);
    long[] batch = RegionDigests.digests(counted, 0, R, 21, scratch);
    int allocatedRegions = 0;
    for (int i = 0; i < 21; i++) {
      long at = (long) i * R;
      int len = (int) Math.min(R, SIZE - at);
      assertThat(batch[i]).as("region %d", i).isEqualTo(RegionDigests.digest(a, at, len, scratch));
      Volume.Extent e = a.allocation(at, len);
      allocatedRegions += e.allocated() || e.length() < len ? 1 : 0;
    }
    assertThat(counted.reads.get()).isEqualTo(allocatedRegions);
    assertThat(allocatedRegions).isBetween(1, 6);
  }

  @Test
  void badArgumentsAreRefused() {
    assertThatThrownBy(() -> RegionDigests.digest(a, 0, R, ByteBuffer.allocate(R - 1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("smaller than");
    assertThatThrownBy(() -> RegionDigests.digests(a, 21L * R, R, 1, scratch))
        .isInstanceOf(OutOfRangeException.class);
    assertThatThrownBy(() -> RegionDigests.digests(a, 20L * R, R, 2, scratch))
        .isInstanceOf(OutOfRangeException.class);
    assertThatThrownBy(() -> RegionDigests.digest(a, 100, 4096, scratch))
        .isInstanceOf(OutOfRangeException.class);
    assertThatThrownBy(() -> RegionDigests.digests(a, 0, 0, 1, scratch))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> RegionDigests.zeroDigest(-1))
        .isInstanceOf(IllegalArgumentException.class);
  }

  private static byte[] randomBytes(long seed, int n) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  /** An in-process wrapper that counts reads; everything else goes straight through. */
  private static final class CountingVolume extends ForwardingVolume {
    final AtomicLong reads = new AtomicLong();

    CountingVolume(Volume inner) {
      super(inner);
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
      reads.incrementAndGet();
      super.read(offset, dst);
    }
  }
}
