package io.duet.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LocalVolumeTest {
  private static final long SIZE = 8L << 20;

  @TempDir Path dir;
  private VolumeStore store;

  @AfterEach
  void closeStore() throws IOException {
    if (store != null) {
      store.close();
    }
  }

  private LocalVolume newVolume(int blockSize) throws IOException {
    store = VolumeStore.open(dir);
    return store.create("vol1", SIZE, blockSize);
  }

  static ByteBuffer pattern(int length, long seed) {
    byte[] b = new byte[length];
    new Random(seed).nextBytes(b);
    return ByteBuffer.wrap(b);
  }

  static byte[] readBytes(Volume v, long offset, int length) throws IOException {
    ByteBuffer dst = ByteBuffer.allocate(length);
    v.read(offset, dst);
    assertThat(dst.hasRemaining()).isFalse();
    return dst.array();
  }

  @ParameterizedTest
  @ValueSource(ints = {512, 4096})
  void writeThenReadRoundTrips(int bs) throws IOException {
    LocalVolume v = newVolume(bs);
    assertThat(v.blockSize()).isEqualTo(bs);
    assertThat(v.blockCount()).isEqualTo(SIZE / bs);
    assertThat(readBytes(v, 0, bs * 4)).containsOnly(0);
    ByteBuffer data = pattern(bs * 3, 1);
    v.write(bs, data.duplicate(), false);
    assertThat(readBytes(v, bs, bs * 3)).isEqualTo(data.array());
    v.write(SIZE - bs, pattern(bs, 2), true);
    assertThat(readBytes(v, SIZE - bs, bs)).isEqualTo(pattern(bs, 2).array());
    v.flush();
  }

  @ParameterizedTest
  @ValueSource(ints = {512, 4096})
  void unalignedAndOutOfRangeRejected(int bs) throws IOException {
    LocalVolume v = newVolume(bs);
    assertThatThrownBy(() -> v.read(1, ByteBuffer.allocate(bs))).isInstanceOf(OutOfRangeException.class);
    assertThatThrownBy(() -> v.read(0, ByteBuffer.allocate(bs - 1))).isInstanceOf(OutOfRangeException.class);
    assertThatThrownBy(() -> v.write(SIZE, ByteBuffer.allocate(bs), false)).isInstanceOf(OutOfRangeException.class);
    assertThatThrownBy(() -> v.write(-bs, ByteBuffer.allocate(bs), false)).isInstanceOf(OutOfRangeException.class);
    assertThatThrownBy(() -> v.unmap(SIZE - bs, 2L * bs)).isInstanceOf(OutOfRangeException.class);
    assertThatThrownBy(() -> v.writeZeroes(0, Long.MAX_VALUE - 511, false)).isInstanceOf(OutOfRangeException.class);
    assertThatThrownBy(() -> v.allocation(SIZE, bs)).isInstanceOf(OutOfRangeException.class);
    byte[] ones = new byte[bs];
    Arrays.fill(ones, (byte) 1);
    assertThatThrownBy(() -> v.compareAndWrite(SIZE, ByteBuffer.wrap(ones), ByteBuffer.wrap(ones), false))
        .isInstanceOf(OutOfRangeException.class);
  }
}
