package io.duet.sync.dirty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.duet.store.CorruptMetadataException;
import io.duet.store.OutOfRangeException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DirtyMapTest {
  private static final long KIB = 1024;
  private static final long MIB = 1024 * KIB;
  private static final long R = DirtyMap.REGION_SIZE_DEFAULT_BYTES;

  @TempDir Path dir;

  private Path file() {
    return dir.resolve("peer.dmap");
  }

  @Test
  void newMapIsCleanAndSizedByRegions() throws IOException {
    try (DirtyMap m = DirtyMap.open(file(), 10 * MIB + 1, R)) {
      assertThat(m.regionSizeBytes()).isEqualTo(64 * KIB);
      assertThat(m.regionCount()).isEqualTo(161);
      assertThat(m.dirtyCount()).isZero();
      assertThat(m.nextDirty(0)).isEqualTo(-1);
    }
  }

  @Test
  void markDirtyCoversEveryOverlappedRegion() throws IOException {
    try (DirtyMap m = DirtyMap.open(file(), 10 * MIB, R)) {
      m.markDirty(R - 512, 1024); // straddles regions 0 and 1
      m.markDirty(5 * R, R); // exactly region 5
      m.markDirty(10 * MIB - 1, 1); // last byte, last region
      m.markDirty(7 * R, 0); // empty: nothing
      assertThat(m.dirtyCount()).isEqualTo(4);
      assertThat(m.isDirty(0)).isTrue();
      assertThat(m.isDirty(1)).isTrue();
      assertThat(m.isDirty(2)).isFalse();
      assertThat(m.isDirty(4)).isFalse();
      assertThat(m.isDirty(5)).isTrue();
      assertThat(m.isDirty(6)).isFalse();
      assertThat(m.nextDirty(2)).isEqualTo(5);
      assertThat(m.nextDirty(6)).isEqualTo(159);
      assertThat(m.nextDirty(160)).isEqualTo(-1);
    }
  }

  @Test
  void rangeErrorsAreTyped() throws IOException {
    try (DirtyMap m = DirtyMap.open(file(), MIB, R)) {
      assertThatThrownBy(() -> m.markDirty(MIB - 1, 2)).isInstanceOf(OutOfRangeException.class);
      assertThatThrownBy(() -> m.markDirty(-1, 2)).isInstanceOf(OutOfRangeException.class);
      assertThatThrownBy(() -> m.markDirty(0, Long.MAX_VALUE))
          .isInstanceOf(OutOfRangeException.class);
      assertThatThrownBy(() -> m.markClean(16)).isInstanceOf(OutOfRangeException.class);
      assertThatThrownBy(() -> m.isDirty(-1)).isInstanceOf(OutOfRangeException.class);
      assertThat(m.nextDirty(16)).isEqualTo(-1);
    }
    assertThatThrownBy(() -> DirtyMap.open(dir.resolve("x"), MIB, 3000))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> DirtyMap.open(dir.resolve("y"), 0, R))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> DirtyMap.open(dir.resolve("z"), 1L << 50, 4096))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("use larger regions");
  }

  @Test
  void dirtyBitsSurviveACrashWithoutSync() throws IOException {
    DirtyMap crashed = DirtyMap.open(file(), 100 * MIB, R);
    crashed.markDirty(3 * R, 1);
    crashed.markDirty(1000 * R, 2 * R);
    // No sync, no close: a second open sees what is on disk now, as after a crash.
    try (DirtyMap m = DirtyMap.open(file(), 100 * MIB, R)) {
      assertThat(dirtyRegions(m)).containsExactly(3L, 1000L, 1001L);
    }
    crashed.close();
  }

  @Test
  void clearedBitsComeBackWithoutSyncAndStayClearedAfterSync() throws IOException {
    try (DirtyMap m = DirtyMap.open(file(), 10 * MIB, R)) {
      m.markDirty(0, 4 * R);
      m.markClean(1);
      assertThat(m.isDirty(1)).isFalse();
      try (DirtyMap crashView = DirtyMap.open(file(), 10 * MIB, R)) {
        assertThat(dirtyRegions(crashView)).containsExactly(0L, 1L, 2L, 3L);
      }
      m.sync();
      try (DirtyMap afterSync = DirtyMap.open(file(), 10 * MIB, R)) {
        assertThat(dirtyRegions(afterSync)).containsExactly(0L, 2L, 3L);
      }
      m.markClean(2);
    }
    try (DirtyMap afterClose = DirtyMap.open(file(), 10 * MIB, R)) {
      assertThat(dirtyRegions(afterClose)).containsExactly(0L, 3L);
    }
  }

  @Test
  void manyRangesMarkedAtOnceCostOneFdatasyncAndSurviveAReopen() throws IOException {
    List<ActivityLog.Range> every3rd = new ArrayList<>();
    for (long r = 0; r < 160; r += 3) {
      every3rd.add(new ActivityLog.Range(r * R + 4096, 4096));
    }
    try (DirtyMap m = DirtyMap.open(file(), 10 * MIB, R)) {
      m.markAllDirty(every3rd);
      assertThat(m.fdatasyncCount()).isEqualTo(1);
      assertThat(m.dirtyCount()).isEqualTo(every3rd.size());
      assertThatThrownBy(() -> m.markAllDirty(List.of(new ActivityLog.Range(10 * MIB - 1, 2))))
          .isInstanceOf(OutOfRangeException.class);
    }
    try (DirtyMap m = DirtyMap.open(file(), 10 * MIB, R)) {
      assertThat(m.dirtyCount()).isEqualTo(every3rd.size());
      assertThat(m.isDirty(3)).isTrue();
      assertThat(m.isDirty(4)).isFalse();
    }
  }

  @Test
  void alreadyDirtyCostsNoIoAndCleanToDirtyCostsOneFdatasync() throws IOException {
    try (DirtyMap m = DirtyMap.open(file(), 10 * MIB, R)) {
      m.markDirty(0, R);
      long after = m.fdatasyncCount();
      assertThat(after).isEqualTo(1);
      for (int i = 0; i < 1000; i++) {
        m.markDirty(100, 200);
      }
      assertThat(m.fdatasyncCount()).isEqualTo(after);
      m.sync(); // nothing cleared: nothing to write
      assertThat(m.fdatasyncCount()).isEqualTo(after);
    }
  }

  @Test
  void tornPageMakesAllItsRegionsDirtyAndIsRepaired() throws IOException {
    long regions = 3 * DirtyMapFile.REGIONS_PER_PAGE + 10; // four pages
    long volume = regions * 4096;
    try (DirtyMap m = DirtyMap.open(file(), volume, 4096)) {
      m.markDirty(5 * 4096, 4096); // page 0
      m.markDirty(DirtyMapFile.REGIONS_PER_PAGE * 2 * 4096 + 4096, 4096); // page 2
    }
    // Tear page 1: its second half is from some other write.
    try (FileChannel ch = FileChannel.open(file(), StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(new byte[] {1, 2, 3, 4}), DirtyMapFile.pageOffset(1) + 3000);
    }
    try (DirtyMap m = DirtyMap.open(file(), volume, 4096)) {
      long perPage = DirtyMapFile.REGIONS_PER_PAGE;
      assertThat(m.dirtyCount()).isEqualTo(1 + perPage + 1);
      assertThat(m.isDirty(5)).isTrue();
      assertThat(m.isDirty(perPage - 1)).isFalse();
      assertThat(m.isDirty(perPage)).isTrue();
      assertThat(m.isDirty(2 * perPage - 1)).isTrue();
      assertThat(m.isDirty(2 * perPage)).isFalse();
      assertThat(m.isDirty(2 * perPage + 1)).isTrue();
      assertThat(m.nextDirty(2 * perPage + 2)).isEqualTo(-1);
    }
    // The open rewrote the page: it reads back valid (still all dirty) without a warning.
    try (FileChannel ch = FileChannel.open(file(), StandardOpenOption.READ)) {
      ByteBuffer page = ByteBuffer.allocate(DirtyMapFile.PAGE_BYTES);
      ch.read(page, DirtyMapFile.pageOffset(1));
      long[] words = new long[DirtyMapFile.WORDS_PER_PAGE];
      assertThat(DirtyMapFile.decodePage(1, page.flip(), words)).isTrue();
      assertThat(words).containsOnly(-1L);
    }
  }

  @Test
  void truncatedFileCountsMissingPagesDirty() throws IOException {
    long regions = 2 * DirtyMapFile.REGIONS_PER_PAGE;
    try (DirtyMap m = DirtyMap.open(file(), regions * 4096, 4096)) {
      assertThat(m.dirtyCount()).isZero();
    }
    try (FileChannel ch = FileChannel.open(file(), StandardOpenOption.WRITE)) {
      ch.truncate(DirtyMapFile.pageOffset(1) + 100);
    }
    try (DirtyMap m = DirtyMap.open(file(), regions * 4096, 4096)) {
      assertThat(m.dirtyCount()).isEqualTo(DirtyMapFile.REGIONS_PER_PAGE);
      assertThat(m.nextDirty(0)).isEqualTo(DirtyMapFile.REGIONS_PER_PAGE);
    }
  }

  @Test
  void badHeadersGiveClearErrors() throws IOException {
    DirtyMap.open(file(), MIB, R).close();
    byte[] good = Files.readAllBytes(file());

    byte[] badMagic = good.clone();
    badMagic[0] ^= 0x55;
    badMagic[512] ^= 0x55;
    Files.write(file(), badMagic);
    assertThatThrownBy(() -> DirtyMap.open(file(), MIB, R))
        .isInstanceOf(CorruptMetadataException.class)
        .hasMessageContaining("not a Duet dirty map")
        .hasMessageContaining(file().toString());

    byte[] badCrc = good.clone();
    badCrc[30] ^= 1;
    badCrc[512 + 30] ^= 1;
    Files.write(file(), badCrc);
    assertThatThrownBy(() -> DirtyMap.open(file(), MIB, R))
        .isInstanceOf(CorruptMetadataException.class)
        .hasMessageContaining("checksum mismatch");

    byte[] oneCopyBad = good.clone();
    oneCopyBad[30] ^= 1;
    Files.write(file(), oneCopyBad);
    DirtyMap.open(file(), MIB, R).close(); // the other copy carries it

    Files.write(file(), new byte[100]);
    assertThatThrownBy(() -> DirtyMap.open(file(), MIB, R))
        .isInstanceOf(CorruptMetadataException.class)
        .hasMessageContaining("shorter than its 4096-byte header");
  }

  @Test
  void geometryMismatchesAreRefused() throws IOException {
    DirtyMap.open(file(), 2 * MIB, R).close();
    assertThatThrownBy(() -> DirtyMap.open(file(), 2 * MIB, 2 * R))
        .isInstanceOf(CorruptMetadataException.class)
        .hasMessageContaining("regions of 65536 bytes");
    assertThatThrownBy(() -> DirtyMap.open(file(), MIB, R))
        .isInstanceOf(CorruptMetadataException.class)
        .hasMessageContaining("never shrink");
  }

  @Test
  void randomFilesAndBitFlipsNeverEscapeAsOtherExceptions() throws IOException {
    Random random = new Random(0xD1127L);
    DirtyMap.open(file(), 3 * MIB, 4096).close();
    byte[] good = Files.readAllBytes(file());
    for (int round = 0; round < 150; round++) {
      byte[] content;
      if (round % 3 == 0) {
        content = new byte[random.nextInt(3 * DirtyMapFile.PAGE_BYTES)];
        random.nextBytes(content);
      } else {
        content = good.clone();
        for (int flips = 1 + random.nextInt(4); flips > 0; flips--) {
          content[random.nextInt(content.length)] ^= (byte) (1 << random.nextInt(8));
        }
      }
      Files.write(file(), content);
      try (DirtyMap m = DirtyMap.open(file(), 3 * MIB, 4096)) {
        assertThat(m.regionCount()).isEqualTo(768);
      } catch (CorruptMetadataException e) {
        assertThat(e.getMessage()).startsWith("corrupt metadata file " + file());
      }
    }
  }

  @Test
  void concurrentMarkersAreAllDurable() throws Exception {
    long regions = 2 * DirtyMapFile.REGIONS_PER_PAGE;
    long volume = regions * 4096;
    int threads = 8;
    ConcurrentLinkedQueue<Long> marked = new ConcurrentLinkedQueue<>();
    DirtyMap m = DirtyMap.open(file(), volume, 4096);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<?>> futures = new ArrayList<>();
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int t = 0; t < threads; t++) {
        long seed = t;
        futures.add(
            pool.submit(
                () -> {
                  Random r = new Random(seed);
                  start.await();
                  for (int i = 0; i < 150; i++) {
                    // Half the marks land on a small hot set, so already-dirty races happen too.
                    long region = r.nextBoolean() ? r.nextInt(64) : r.nextLong(regions);
                    m.markDirty(region * 4096 + r.nextInt(4096), 1);
                    marked.add(region);
                  }
                  return null;
                }));
      }
      start.countDown();
      for (Future<?> f : futures) {
        f.get();
      }
    }
    long distinct = marked.stream().distinct().count();
    assertThat(m.dirtyCount()).isEqualTo(distinct);
    // Group commit: never more fdatasyncs than clean-to-dirty transitions.
    assertThat(m.fdatasyncCount()).isLessThanOrEqualTo(distinct);
    try (DirtyMap reopened = DirtyMap.open(file(), volume, 4096)) {
      for (long region : marked) {
        assertThat(reopened.isDirty(region)).as("region %d", region).isTrue();
      }
      assertThat(reopened.dirtyCount()).isEqualTo(distinct);
    }
    m.close();
  }

  @Test
  void markersQueuedBehindAWriteShareTheNextFdatasync() throws Exception {
    long volume = 2 * DirtyMapFile.REGIONS_PER_PAGE * 4096;
    int markers = 8;
    try (DirtyMap m = DirtyMap.open(file(), volume, 4096);
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      CountDownLatch gate = new CountDownLatch(1);
      m.beforePageIo =
          () -> {
            try {
              gate.await(); // hold the first writer until the others queued behind it
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          };
      List<Future<?>> futures = new ArrayList<>();
      for (int i = 0; i < markers; i++) {
        // Regions spread over both pages: the second batch writes two pages, one fdatasync.
        long region = i * (DirtyMapFile.REGIONS_PER_PAGE / 5);
        futures.add(
            pool.submit(
                () -> {
                  m.markDirty(region * 4096, 1);
                  return null;
                }));
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (m.requestedWrites() < markers) {
        assertThat(System.nanoTime()).isLessThan(deadline);
        Thread.yield();
      }
      gate.countDown();
      for (Future<?> f : futures) {
        f.get(10, TimeUnit.SECONDS);
      }
      assertThat(m.fdatasyncCount()).isEqualTo(2);
      assertThat(m.dirtyCount()).isEqualTo(markers);
      m.beforePageIo = null;
    }
    try (DirtyMap reopened = DirtyMap.open(file(), volume, 4096)) {
      assertThat(reopened.dirtyCount()).isEqualTo(markers);
    }
  }

  @Test
  void resizeGrowsWithNewRegionsCleanAndSurvivesReopen() throws IOException {
    long small = 100 * R;
    long big = 2 * DirtyMapFile.REGIONS_PER_PAGE * R + 5 * R;
    try (DirtyMap m = DirtyMap.open(file(), small, R)) {
      m.markDirty(99 * R, 1);
      m.resize(big);
      assertThat(m.regionCount()).isEqualTo(big / R);
      assertThat(dirtyRegions(m)).containsExactly(99L);
      m.markDirty(big - 1, 1);
      assertThatThrownBy(() -> m.resize(small)).isInstanceOf(IllegalArgumentException.class);
    }
    try (DirtyMap m = DirtyMap.open(file(), big, R)) {
      assertThat(dirtyRegions(m)).containsExactly(99L, big / R - 1);
    }
  }

  @Test
  void openWithALargerVolumeGrowsAndATornNewHeaderFallsBackToTheOldOne() throws IOException {
    try (DirtyMap m = DirtyMap.open(file(), MIB, R)) {
      m.markDirty(0, 1);
    }
    try (DirtyMap m = DirtyMap.open(file(), 4 * MIB, R)) { // grows: header generation 2
      assertThat(m.regionCount()).isEqualTo(64);
      assertThat(dirtyRegions(m)).containsExactly(0L);
    }
    // Damage the generation-2 copy (slot 0): the generation-1 copy (1 MiB) is used, and the
    // larger open grows it again.
    try (FileChannel ch = FileChannel.open(file(), StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(new byte[] {9}), 20);
    }
    try (DirtyMap m = DirtyMap.open(file(), 4 * MIB, R)) {
      assertThat(m.regionCount()).isEqualTo(64);
      assertThat(dirtyRegions(m)).containsExactly(0L);
    }
  }

  @Test
  void closedMapRefusesIo() throws IOException {
    DirtyMap m = DirtyMap.open(file(), MIB, R);
    m.markDirty(0, 1);
    m.close();
    m.close(); // idempotent
    m.markDirty(0, 1); // already durable: no I/O needed
    assertThatThrownBy(() -> m.markDirty(R, 1)).isInstanceOf(IOException.class);
  }

  private static List<Long> dirtyRegions(DirtyMap m) {
    List<Long> out = new ArrayList<>();
    for (long r = m.nextDirty(0); r >= 0; r = m.nextDirty(r + 1)) {
      out.add(r);
    }
    return out;
  }
}
