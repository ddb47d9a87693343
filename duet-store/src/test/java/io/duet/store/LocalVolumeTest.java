package io.duet.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
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
    assertThatThrownBy(() -> v.read(1, ByteBuffer.allocate(bs)))
        .isInstanceOf(OutOfRangeException.class);
    assertThatThrownBy(() -> v.read(0, ByteBuffer.allocate(bs - 1)))
        .isInstanceOf(OutOfRangeException.class);
    assertThatThrownBy(() -> v.write(SIZE, ByteBuffer.allocate(bs), false))
        .isInstanceOf(OutOfRangeException.class);
    assertThatThrownBy(() -> v.write(-bs, ByteBuffer.allocate(bs), false))
        .isInstanceOf(OutOfRangeException.class);
    assertThatThrownBy(() -> v.unmap(SIZE - bs, 2L * bs)).isInstanceOf(OutOfRangeException.class);
    assertThatThrownBy(() -> v.writeZeroes(0, Long.MAX_VALUE - 511, false))
        .isInstanceOf(OutOfRangeException.class);
    assertThatThrownBy(() -> v.allocation(SIZE, bs)).isInstanceOf(OutOfRangeException.class);
    byte[] ones = new byte[bs];
    Arrays.fill(ones, (byte) 1);
    assertThatThrownBy(
            () -> v.compareAndWrite(SIZE, ByteBuffer.wrap(ones), ByteBuffer.wrap(ones), false))
        .isInstanceOf(OutOfRangeException.class);
  }

  /** Allocated 512-byte sectors of the file, as du counts them. */
  static long allocatedSectors(Path file) throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder("stat", "--format=%b", file.toString())
            .redirectErrorStream(true)
            .start();
    String out =
        new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII)
            .trim();
    assertThat(p.waitFor()).isZero();
    return Long.parseLong(out);
  }

  @ParameterizedTest
  @ValueSource(ints = {512, 4096})
  void unmapReadsZerosAndFreesSpace(int bs) throws Exception {
    LocalVolume v = newVolume(bs);
    int len = 1 << 20;
    v.write(0, pattern(len, 3), false);
    v.flush();
    assertThat(v.allocation(0, SIZE)).isEqualTo(new Volume.Extent(0, len, true));
    long before = allocatedSectors(v.dataFile());
    assertThat(before).isGreaterThanOrEqualTo(len / 512);

    v.unmap(64 * 1024, 512 * 1024);

    assertThat(readBytes(v, 64 * 1024, 512 * 1024)).containsOnly(0);
    assertThat(readBytes(v, 0, 64 * 1024))
        .isEqualTo(Arrays.copyOf(pattern(len, 3).array(), 64 * 1024));
    assertThat(allocatedSectors(v.dataFile())).isLessThanOrEqualTo(before - 512 * 1024 / 512);
    assertThat(v.allocation(0, SIZE)).isEqualTo(new Volume.Extent(0, 64 * 1024, true));
    assertThat(v.allocation(64 * 1024, SIZE))
        .isEqualTo(new Volume.Extent(64 * 1024, 512 * 1024, false));
    assertThat(v.allocation(576 * 1024, SIZE))
        .isEqualTo(new Volume.Extent(576 * 1024, 448 * 1024, true));
    assertThat(v.allocation(len, SIZE)).isEqualTo(new Volume.Extent(len, SIZE - len, false));
    // capped by maxLength (rounded up to a block) and by the end of the volume
    assertThat(v.allocation(64 * 1024, 1)).isEqualTo(new Volume.Extent(64 * 1024, bs, false));
    assertThat(v.allocation(SIZE - bs, SIZE)).isEqualTo(new Volume.Extent(SIZE - bs, bs, false));
  }

  @Test
  void unmapUnalignedToGranularityZeroesHeadAndTail() throws Exception {
    LocalVolume v = newVolume(512);
    assertThat(v.unmapGranularityBytes()).isEqualTo(4096);
    int len = 64 * 1024;
    v.write(0, pattern(len, 4), false);
    // 512 .. 40448: head 512..4096 zeroed, middle 4096..36864 punched, tail 36864..40448 zeroed
    v.unmap(512, 40448 - 512);
    byte[] after = readBytes(v, 0, len);
    byte[] expected = pattern(len, 4).array();
    Arrays.fill(expected, 512, 40448, (byte) 0);
    assertThat(after).isEqualTo(expected);
    assertThat(v.allocation(0, len)).isEqualTo(new Volume.Extent(0, 4096, true));
    assertThat(v.allocation(4096, len)).isEqualTo(new Volume.Extent(4096, 32768, false));
    // the tail granule is still allocated: a partly allocated region counts as allocated
    assertThat(v.allocation(36864, len)).isEqualTo(new Volume.Extent(36864, len - 36864, true));
    // within one granule nothing can be punched: the blocks are only zeroed
    v.unmap(41472, 512);
    assertThat(readBytes(v, 41472, 512)).containsOnly(0);
    assertThat(v.allocation(40960, 4096).allocated()).isTrue();
  }

  @Test
  void allocationRoundsPartlyAllocatedBlockUp() throws Exception {
    LocalVolume v = newVolume(4096);
    v.write(8192, pattern(4096, 5), false);
    assertThat(v.allocation(0, SIZE)).isEqualTo(new Volume.Extent(0, 8192, false));
    assertThat(v.allocation(4096, SIZE)).isEqualTo(new Volume.Extent(4096, 4096, false));
    assertThat(v.allocation(8192, SIZE)).isEqualTo(new Volume.Extent(8192, 4096, true));
    assertThat(v.allocation(12288, SIZE)).isEqualTo(new Volume.Extent(12288, SIZE - 12288, false));
    assertThatThrownBy(() -> v.allocation(0, 0)).isInstanceOf(OutOfRangeException.class);
    assertThatThrownBy(() -> v.allocation(100, 4096)).isInstanceOf(OutOfRangeException.class);
  }

  @ParameterizedTest
  @ValueSource(ints = {512, 4096})
  void writeZeroesWithAndWithoutDeallocation(int bs) throws Exception {
    LocalVolume v = newVolume(bs);
    int len = 256 * 1024;
    v.write(0, pattern(len, 6), false);
    v.flush();
    long written = allocatedSectors(v.dataFile());
    v.writeZeroes(0, 128 * 1024, false);
    assertThat(readBytes(v, 0, 128 * 1024)).containsOnly(0);
    // Space stays reserved. (ext4/xfs keep it as unwritten extents, which SEEK_DATA may report
    // as a hole, so the check is on the blocks the file holds, not on allocation().)
    assertThat(allocatedSectors(v.dataFile())).isGreaterThanOrEqualTo(written);
    v.writeZeroes(128 * 1024, 128 * 1024, true);
    assertThat(readBytes(v, 0, len)).containsOnly(0);
    assertThat(v.allocation(128 * 1024, SIZE))
        .isEqualTo(new Volume.Extent(128 * 1024, SIZE - 128 * 1024, false));
    assertThat(allocatedSectors(v.dataFile())).isLessThanOrEqualTo(written - 128 * 1024 / 512);
    // zeroing a hole without deallocation reserves its space
    long beforeHoleZero = allocatedSectors(v.dataFile());
    v.writeZeroes(SIZE - 65536, 65536, false);
    assertThat(allocatedSectors(v.dataFile())).isGreaterThanOrEqualTo(beforeHoleZero + 65536 / 512);
    assertThat(readBytes(v, SIZE - 65536, 65536)).containsOnly(0);
    v.writeZeroes(0, 0, true);
    v.unmap(SIZE, 0);
  }

  @ParameterizedTest
  @ValueSource(ints = {512, 4096})
  void compareAndWriteSucceedsOrReportsFirstDifference(int bs) throws Exception {
    LocalVolume v = newVolume(bs);
    ByteBuffer old = pattern(2 * bs, 7);
    v.write(bs, old.duplicate(), false);
    ByteBuffer next = pattern(2 * bs, 8);
    assertThat(v.compareAndWrite(bs, old, next, true)).isEqualTo(-1);
    assertThat(old.position()).isZero();
    assertThat(next.position()).isZero();
    assertThat(readBytes(v, bs, 2 * bs)).isEqualTo(next.array());

    ByteBuffer wrong = ByteBuffer.wrap(next.array().clone());
    wrong.put(bs + 17, (byte) ~wrong.get(bs + 17));
    assertThat(v.compareAndWrite(bs, wrong, pattern(2 * bs, 9), false)).isEqualTo(bs + 17);
    assertThat(readBytes(v, bs, 2 * bs)).isEqualTo(next.array());

    // unmapped blocks compare as zeros
    assertThat(v.compareAndWrite(SIZE - bs, ByteBuffer.allocate(bs), pattern(bs, 10), false))
        .isEqualTo(-1);
    assertThatThrownBy(
            () -> v.compareAndWrite(0, ByteBuffer.allocate(bs), ByteBuffer.allocate(2 * bs), false))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @ParameterizedTest
  @ValueSource(ints = {512, 4096})
  void interruptedCallerDoesNotBreakTheVolumeForOthers(int bs) throws Exception {
    LocalVolume v = newVolume(bs);
    Thread.currentThread().interrupt();
    assertThatThrownBy(() -> v.write(0, pattern(bs, 11), false)).isInstanceOf(IOException.class);
    assertThat(Thread.interrupted()).isTrue();
    v.write(0, pattern(bs, 12), false);
    assertThat(readBytes(v, 0, bs)).isEqualTo(pattern(bs, 12).array());
  }

  @Test
  void closedVolumeFailsCleanly() throws Exception {
    LocalVolume v = newVolume(4096);
    store.delete("vol1");
    assertThatThrownBy(() -> v.read(0, ByteBuffer.allocate(4096))).isInstanceOf(IOException.class);
    assertThatThrownBy(v::flush).isInstanceOf(java.nio.channels.ClosedChannelException.class);
    assertThatThrownBy(() -> v.unmap(0, 4096))
        .isInstanceOf(java.nio.channels.ClosedChannelException.class);
  }

  @Test
  void othersKeepWorkingWhileCallersAreInterrupted() throws Exception {
    LocalVolume v = newVolume(4096);
    v.write(0, pattern(65536, 13), false);
    byte[] expected = pattern(65536, 13).array();
    AtomicBoolean done = new AtomicBoolean();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    List<Thread> readers = new ArrayList<>();
    for (int t = 0; t < 3; t++) {
      readers.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    try {
                      while (!done.get()) {
                        assertThat(readBytes(v, 0, 65536)).isEqualTo(expected);
                        v.write(65536, pattern(4096, 14), true);
                      }
                    } catch (Throwable e) {
                      failure.compareAndSet(null, e);
                    }
                  }));
    }
    int interruptedFailures = 0;
    for (int i = 0; i < 200 && failure.get() == null; i++) {
      Thread.currentThread().interrupt();
      try {
        v.read(0, ByteBuffer.allocate(4096));
      } catch (ClosedByInterruptException expectedFailure) {
        interruptedFailures++;
      }
      assertThat(Thread.interrupted()).isTrue();
    }
    done.set(true);
    for (Thread t : readers) {
      t.join();
    }
    assertThat(failure.get()).isNull();
    assertThat(interruptedFailures).isEqualTo(200);
    assertThat(readBytes(v, 65536, 4096)).isEqualTo(pattern(4096, 14).array());
  }
}
