package io.duet.sync.dirty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.duet.store.CorruptMetadataException;
import io.duet.sync.dirty.ActivityLog.Range;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ActivityLogFileTest {
  private static final long E = 1 << 20; // extent size in these tests
  private static final long VOLUME = 64 * E + 1234 * 512;

  @TempDir Path dir;

  /** The volume's fdatasync, as the log sees it: counted, and made to fail on demand. */
  private final java.util.concurrent.atomic.AtomicInteger barriers =
      new java.util.concurrent.atomic.AtomicInteger();

  private volatile IOException barrierFailure;

  private void barrier() throws IOException {
    barriers.incrementAndGet();
    if (barrierFailure != null) {
      throw barrierFailure;
    }
  }

  private Path file() {
    return dir.resolve("peer.alog");
  }

  private ActivityLogFile open(int maxActive) throws IOException {
    return ActivityLogFile.open(
        file(), VOLUME, E, maxActive, Duration.ofMillis(200), this::barrier);
  }

  @Test
  void cleanCloseMakesTheDataDurableBeforeTheLogForgetsItsExtents() throws IOException {
    ActivityLogFile log = open(8);
    log.beginWrite(3 * E, 4096);
    log.endWrite(3 * E, 4096); // done in the page cache, not yet durable
    int before = barriers.get();
    List<Integer> seenByFinalTransaction = new ArrayList<>();
    log.beforeTransactionIo = () -> seenByFinalTransaction.add(barriers.get());
    log.close();
    assertThat(seenByFinalTransaction).singleElement().isEqualTo(before + 1);
    try (ActivityLogFile reopened = open(8)) {
      assertThat(reopened.activeAtOpen()).isEmpty();
    }
  }

  @Test
  void aFailedBarrierAtCloseKeepsTheExtentsRecorded() throws IOException {
    ActivityLogFile log = open(8);
    log.beginWrite(3 * E, 4096);
    log.endWrite(3 * E, 4096);
    barrierFailure = new IOException("EIO from fdatasync");
    assertThatThrownBy(log::close).isSameAs(barrierFailure);
    barrierFailure = null;
    try (ActivityLogFile reopened = open(8)) {
      assertThat(reopened.activeAtOpen()).containsExactly(new Range(3 * E, E));
    }
  }

  @Test
  void releasingWhatWasActiveAtOpenMakesItsDataDurableFirst() throws IOException {
    ActivityLogFile crashed = open(8);
    crashed.beginWrite(5 * E, 512); // never ended: a crash
    try (ActivityLogFile log = open(8)) {
      assertThat(log.activeAtOpen()).containsExactly(new Range(5 * E, E));
      int before = barriers.get();
      List<Integer> seen = new ArrayList<>();
      log.beforeTransactionIo = () -> seen.add(barriers.get());
      log.releaseActiveAtOpen();
      assertThat(seen).singleElement().isEqualTo(before + 1);
    }
    crashed.close();
  }

  @Test
  void releasingIdleExtentsMakesTheDataDurableAndKeepsThoseInFlight() throws IOException {
    ActivityLogFile log = open(8);
    log.beginWrite(2 * E, 4096);
    log.endWrite(2 * E, 4096); // idle: its data only in the page cache
    log.beginWrite(6 * E, 4096); // still in flight
    int before = barriers.get();
    List<Integer> seen = new ArrayList<>();
    log.beforeTransactionIo = () -> seen.add(barriers.get());
    log.releaseIdle();
    assertThat(seen).singleElement().isEqualTo(before + 1);
    // A crash now reports only the extent with a write in flight.
    try (ActivityLogFile reopened = open(8)) {
      assertThat(reopened.activeAtOpen()).containsExactly(new Range(6 * E, E));
    }
    log.endWrite(6 * E, 4096);
    log.close();
  }

  @Test
  void newLogReportsNothing() throws IOException {
    try (ActivityLogFile log = open(8)) {
      assertThat(log.activeAtOpen()).isEmpty();
      assertThat(log.extentSizeBytes()).isEqualTo(E);
    }
    try (ActivityLogFile log = open(8)) {
      assertThat(log.activeAtOpen()).isEmpty();
    }
  }

  @Test
  void crashReportsExactlyTheActiveExtentsAndCleanCloseReportsNothing() throws IOException {
    ActivityLogFile crashed = open(8);
    crashed.beginWrite(100, 4096); // extent 0
    crashed.beginWrite(6 * E - 512, 1024); // extents 5 and 6
    crashed.endWrite(100, 4096); // done, but still hot: stays active
    crashed.beginWrite(64 * E, 512); // the last, partial extent 64
    // No close: a second open reads what a crash would leave.
    try (ActivityLogFile log = open(8)) {
      assertThat(log.activeAtOpen())
          .containsExactly(new Range(0, E), new Range(5 * E, 2 * E), new Range(64 * E, 1234 * 512));
      log.releaseActiveAtOpen();
    }
    try (ActivityLogFile log = open(8)) {
      assertThat(log.activeAtOpen()).isEmpty();
    }
    crashed.close();
  }

  @Test
  void reportedRangesAreCarriedUntilReleased() throws IOException {
    ActivityLogFile first = open(4);
    first.beginWrite(2 * E, 1);
    ActivityLogFile second = open(4); // after crash 1: reports extent 2
    assertThat(second.activeAtOpen()).containsExactly(new Range(2 * E, E));
    second.beginWrite(7 * E, 1);
    second.endWrite(7 * E, 1);
    second.close(); // a clean close still carries extent 2: nobody released it
    ActivityLogFile third = open(4);
    assertThat(third.activeAtOpen()).containsExactly(new Range(2 * E, E));
    third.beginWrite(9 * E, 1);
    ActivityLogFile fourth = open(4); // after crash 3
    assertThat(fourth.activeAtOpen()).containsExactly(new Range(2 * E, E), new Range(9 * E, E));
    fourth.releaseActiveAtOpen();
    fourth.beginWrite(11 * E, 1);
    try (ActivityLogFile fifth = open(4)) {
      assertThat(fifth.activeAtOpen()).containsExactly(new Range(11 * E, E));
    }
    first.close();
    third.close();
    fourth.close();
  }

  @Test
  void hotExtentsCostNoIoAndTheLeastRecentlyUsedIdleExtentIsEvicted() throws IOException {
    ActivityLogFile log = open(3);
    for (long e = 0; e < 3; e++) {
      log.beginWrite(e * E, 512);
      log.endWrite(e * E, 512);
    }
    long syncs = log.fdatasyncCount();
    for (int i = 0; i < 1000; i++) {
      log.beginWrite(0, 512); // extent 0 is now the most recently used
      log.endWrite(0, 512);
    }
    assertThat(log.fdatasyncCount()).isEqualTo(syncs);
    log.beginWrite(3 * E, 512); // evicts extent 1, the least recently used idle one
    assertThat(log.fdatasyncCount()).isEqualTo(syncs + 1);
    assertThat(log.activeCount()).isEqualTo(3);
    try (ActivityLogFile reopened = open(3)) {
      assertThat(reopened.activeAtOpen()).containsExactly(new Range(0, E), new Range(2 * E, 2 * E));
    }
    log.close();
  }

  @Test
  void allBusyWaitsBoundedThenProceedsWhenAnExtentFallsIdle() throws Exception {
    try (ActivityLogFile log = open(2);
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      log.beginWrite(0, 512);
      log.beginWrite(E, 512);
      long start = System.nanoTime();
      assertThatThrownBy(() -> log.beginWrite(2 * E, 512))
          .isInstanceOf(ActivityLogBusyException.class)
          .hasMessageContaining("all 2 active extents stayed busy");
      assertThat(System.nanoTime() - start).isLessThan(TimeUnit.SECONDS.toNanos(5));

      ActivityLogFile patient =
          ActivityLogFile.open(
              dir.resolve("other.alog"), VOLUME, E, 2, Duration.ofSeconds(30), this::barrier);
      patient.beginWrite(0, 512);
      patient.beginWrite(E, 512);
      Future<?> waiting =
          pool.submit(
              () -> {
                patient.beginWrite(2 * E, 512);
                return null;
              });
      awaitTrue(() -> patient.isWaitingForSpace());
      assertThat(waiting.isDone()).isFalse();
      patient.endWrite(0, 512);
      waiting.get(10, TimeUnit.SECONDS);
      patient.endWrite(E, 512);
      patient.endWrite(2 * E, 512);
      patient.close();
      try (ActivityLogFile reopened =
          ActivityLogFile.open(dir.resolve("other.alog"), VOLUME, E, 2, this::barrier)) {
        assertThat(reopened.activeAtOpen()).isEmpty();
      }
    }
  }

  @Test
  void writeSpanningMoreExtentsThanTheLogHoldsIsRefused() throws IOException {
    try (ActivityLogFile log = open(2)) {
      assertThatThrownBy(() -> log.beginWrite(0, 2 * E + 1))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> log.endWrite(5 * E, 1)).isInstanceOf(IllegalStateException.class);
      log.beginWrite(0, 2 * E); // exactly two extents is fine
      log.endWrite(0, 2 * E);
    }
  }

  @Test
  void concurrentNewExtentsShareOneFdatasync() throws Exception {
    int writers = 8;
    try (ActivityLogFile log = open(16);
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      long before = log.fdatasyncCount();
      CountDownLatch gate = new CountDownLatch(1);
      log.beforeTransactionIo =
          () -> {
            try {
              gate.await(); // hold the first writer until everyone else queued behind it
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          };
      List<Future<?>> futures = new ArrayList<>();
      for (int i = 0; i < writers; i++) {
        long offset = i * E;
        futures.add(
            pool.submit(
                () -> {
                  log.beginWrite(offset, 512);
                  return null;
                }));
      }
      awaitTrue(() -> log.activeCount() == writers);
      gate.countDown();
      for (Future<?> f : futures) {
        f.get(10, TimeUnit.SECONDS);
      }
      // The first transaction carried what was admitted when it started; one more carried the
      // other seven together.
      assertThat(log.fdatasyncCount() - before).isEqualTo(2);
      log.beforeTransactionIo = null;
      try (ActivityLogFile reopened = open(16)) {
        assertThat(reopened.activeAtOpen()).containsExactly(new Range(0, writers * E));
      }
    }
  }

  @Test
  void everyExtentWithAWriteInFlightAtACrashIsReported() throws Exception {
    int threads = 6;
    ActivityLogFile crashed = open(5); // fewer slots than writers' extents: eviction and waits
    List<Future<Long>> held = new ArrayList<>();
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int t = 0; t < threads; t++) {
        long seed = t;
        held.add(
            pool.submit(
                () -> {
                  Random r = new Random(seed);
                  for (int i = 0; i < 200; i++) {
                    long offset = r.nextInt(12) * E + r.nextInt(1024) * 512;
                    crashed.beginWrite(offset, 512);
                    crashed.endWrite(offset, 512);
                  }
                  long last = (seed % 4) * E; // end holding a write: the "crash" comes now
                  crashed.beginWrite(last, 512);
                  return last;
                }));
      }
      List<Range> expected = new ArrayList<>();
      for (Future<Long> f : held) {
        expected.add(new Range(f.get(20, TimeUnit.SECONDS), E));
      }
      try (ActivityLogFile log = open(5)) {
        List<Range> reported = log.activeAtOpen();
        for (Range r : expected) {
          assertThat(reported.stream().anyMatch(x -> covers(x, r)))
              .as("%s in %s", r, reported)
              .isTrue();
        }
        long total = reported.stream().mapToLong(Range::length).sum();
        assertThat(total).isLessThanOrEqualTo(5 * E);
      }
    }
    crashed.close();
  }

  private static boolean covers(Range outer, Range inner) {
    return outer.offset() <= inner.offset()
        && inner.offset() + inner.length() <= outer.offset() + outer.length();
  }

  @Test
  void tornNewestTransactionIsSkipped() throws IOException {
    ActivityLogFile crashed = open(8); // transaction 1: the empty set written at creation
    crashed.beginWrite(0, 1); // transaction 2: {0}
    crashed.beginWrite(3 * E, 1); // transaction 3: {0, 3}
    long slot3 = ActivityLogFormat.Geometry.of(8, E).slotOffset(3);
    try (FileChannel ch = FileChannel.open(file(), StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(new byte[] {0x7f}), slot3 + 20); // half-written extent list
    }
    try (ActivityLogFile log = open(8)) {
      assertThat(log.activeAtOpen()).containsExactly(new Range(0, E));
    }
    crashed.close();
  }

  @Test
  void noValidTransactionMeansTheWholeVolume() throws IOException {
    open(8).close();
    long ring = ActivityLogFormat.HEADER_BLOCK_BYTES;
    try (FileChannel ch = FileChannel.open(file(), StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.allocate((int) (Files.size(file()) - ring)), ring); // wipe every slot
    }
    try (ActivityLogFile log = open(8)) {
      assertThat(log.activeAtOpen()).containsExactly(new Range(0, VOLUME));
    }
    // Still carried (nobody released it): a crash now reports the whole volume again.
    ActivityLogFile again = open(8);
    assertThat(again.activeAtOpen()).containsExactly(new Range(0, VOLUME));
    again.releaseActiveAtOpen();
    again.close();
    try (ActivityLogFile log = open(8)) {
      assertThat(log.activeAtOpen()).isEmpty();
    }
  }

  @Test
  void garbageFilesReportTheWholeVolumeAndNeverThrowOtherwise() throws IOException {
    Random random = new Random(0xA106L);
    ActivityLogFile seed = open(8);
    seed.beginWrite(4 * E, 1);
    byte[] good = Files.readAllBytes(file());
    seed.close();
    for (int round = 0; round < 100; round++) {
      byte[] content;
      if (round % 2 == 0) {
        content = new byte[random.nextInt(3 * 4096)];
        random.nextBytes(content);
      } else {
        content = good.clone();
        for (int flips = 1 + random.nextInt(3); flips > 0; flips--) {
          content[random.nextInt(content.length)] ^= (byte) (1 << random.nextInt(8));
        }
      }
      Files.write(file(), content);
      try (ActivityLogFile log = open(8)) {
        // Whatever survived, it is one of the two safe answers: the latest valid set or all.
        assertThat(log.activeAtOpen())
            .isIn(List.of(new Range(4 * E, E)), List.of(), List.of(new Range(0, VOLUME)));
        if (round % 2 == 0) {
          assertThat(log.activeAtOpen()).containsExactly(new Range(0, VOLUME));
        }
      } catch (CorruptMetadataException e) {
        assertThat(e.getMessage()).contains("format version"); // a flip in the version field
      }
    }
  }

  @Test
  void newerFormatVersionIsRefusedAndLeftAlone() throws IOException {
    open(8).close();
    byte[] bytes = Files.readAllBytes(file());
    ByteBuffer b = ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    b.putInt(8, 2);
    b.putInt(32, DirtyMapFile.crc(b, 0, 32));
    Files.write(file(), bytes);
    assertThatThrownBy(() -> open(8))
        .isInstanceOf(CorruptMetadataException.class)
        .hasMessageContaining("format version 2");
    assertThat(Files.readAllBytes(file())).isEqualTo(bytes);
  }

  @Test
  void changedExtentSizeKeepsWhatTheOldFileReported() throws IOException {
    ActivityLogFile crashed = ActivityLogFile.open(file(), VOLUME, 4 * E, 8, this::barrier);
    crashed.beginWrite(5 * E, 1); // 4 MiB extent 1: [4 MiB, 8 MiB)
    ActivityLogFile smaller = ActivityLogFile.open(file(), VOLUME, E, 8, this::barrier);
    assertThat(smaller.extentSizeBytes()).isEqualTo(E);
    assertThat(smaller.activeAtOpen()).containsExactly(new Range(4 * E, 4 * E));
    smaller.beginWrite(20 * E, 1);
    // Crash again: the rewritten file carries the old range as four 1 MiB extents.
    try (ActivityLogFile log = ActivityLogFile.open(file(), VOLUME, E, 8, this::barrier)) {
      assertThat(log.activeAtOpen()).containsExactly(new Range(4 * E, 4 * E), new Range(20 * E, E));
    }
    crashed.close();
    smaller.close();
  }

  private static void awaitTrue(BooleanSupplier condition) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as("condition within 10 s").isLessThan(deadline);
      Thread.onSpinWait();
      Thread.yield();
    }
  }
}
