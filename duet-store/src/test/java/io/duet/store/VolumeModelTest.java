package io.duet.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Seeded random operations against a byte-array model: whatever mix of writes, unmaps, zeroing and
 * compare-and-writes, every read returns what the model says, and allocation() never claims a hole
 * where the model holds non-zero data.
 */
class VolumeModelTest {
  private static final int SIZE = 2 << 20;

  @TempDir Path dir;

  @ParameterizedTest
  @CsvSource({"512, 1", "512, 2", "4096, 3", "4096, 4"})
  void randomOperationsMatchTheModel(int bs, long seed) throws Exception {
    Random random = new Random(seed);
    byte[] model = new byte[SIZE];
    try (VolumeStore store = VolumeStore.open(dir)) {
      LocalVolume v = store.create("model", SIZE, bs);
      for (int op = 0; op < 400; op++) {
        int blocks = 1 + random.nextInt(random.nextBoolean() ? 4 : 40);
        long offset = (long) random.nextInt(SIZE / bs - blocks + 1) * bs;
        int length = blocks * bs;
        switch (random.nextInt(5)) {
          case 0, 1 -> {
            byte[] data = new byte[length];
            random.nextBytes(data);
            v.write(offset, ByteBuffer.wrap(data), random.nextInt(8) == 0);
            System.arraycopy(data, 0, model, (int) offset, length);
          }
          case 2 -> {
            v.unmap(offset, length);
            Arrays.fill(model, (int) offset, (int) offset + length, (byte) 0);
          }
          case 3 -> {
            v.writeZeroes(offset, length, random.nextBoolean());
            Arrays.fill(model, (int) offset, (int) offset + length, (byte) 0);
          }
          default -> compareAndWrite(v, model, offset, length, random);
        }
        if (op % 20 == 0) {
          assertMatches(v, model);
        }
      }
      assertMatches(v, model);
    }
  }

  private static void compareAndWrite(
      LocalVolume v, byte[] model, long offset, int length, Random random) throws Exception {
    byte[] expected = Arrays.copyOfRange(model, (int) offset, (int) offset + length);
    int differAt = -1;
    if (random.nextBoolean()) {
      differAt = random.nextInt(length);
      expected[differAt] ^= 1;
    }
    byte[] data = new byte[length];
    random.nextBytes(data);
    long result =
        v.compareAndWrite(offset, ByteBuffer.wrap(expected), ByteBuffer.wrap(data), false);
    assertThat(result).isEqualTo(differAt);
    if (differAt < 0) {
      System.arraycopy(data, 0, model, (int) offset, length);
    }
  }

  private static void assertMatches(LocalVolume v, byte[] model) throws Exception {
    ByteBuffer all = ByteBuffer.allocate(SIZE);
    v.read(0, all);
    assertThat(all.array()).isEqualTo(model);
    long at = 0;
    while (at < SIZE) {
      Volume.Extent e = v.allocation(at, SIZE);
      assertThat(e.offset()).isEqualTo(at);
      assertThat(e.length()).isPositive().isEqualTo(e.length() / v.blockSize() * v.blockSize());
      if (!e.allocated()) {
        int from = (int) at;
        int to = (int) (at + e.length());
        assertThat(Arrays.equals(model, from, to, new byte[to - from], 0, to - from))
            .as("[%d, %d) reported unallocated but holds data", from, to)
            .isTrue();
      }
      at += e.length();
    }
    assertThat(at).isEqualTo(SIZE);
  }
}
