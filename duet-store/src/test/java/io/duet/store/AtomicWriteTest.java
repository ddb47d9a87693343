package io.duet.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Volume.writeAtomic on LocalVolume: round trip, crash recovery through the journal, bounds. */
class AtomicWriteTest {
  private static final long SIZE = 8L << 20;
  private static final int BS = 512;

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

  /** Closes the store (as a crash would, without any flush) and reopens it. */
  private LocalVolume reopen() throws IOException {
    store.close();
    store = VolumeStore.open(dir);
    return store.get("vol1").orElseThrow();
  }

  static ByteBuffer filled(int length, int value) {
    byte[] b = new byte[length];
    Arrays.fill(b, (byte) value);
    return ByteBuffer.wrap(b);
  }

  static byte[] read(Volume v, long offset, int length) throws IOException {
    ByteBuffer dst = ByteBuffer.allocate(length);
    v.read(offset, dst);
    return dst.array();
  }

  /** Appends raw bytes to a volume's journal file, as a crash would have left them. */
  static void appendToJournal(LocalVolume v, ByteBuffer bytes) throws IOException {
    try (FileChannel ch =
        FileChannel.open(
            LocalVolume.journalFile(v.dataFile()),
            StandardOpenOption.WRITE,
            StandardOpenOption.APPEND)) {
      while (bytes.hasRemaining()) {
        ch.write(bytes);
      }
    }
  }

  static void writeRaw(LocalVolume v, long offset, ByteBuffer bytes) throws IOException {
    try (FileChannel ch = FileChannel.open(v.dataFile(), StandardOpenOption.WRITE)) {
      while (bytes.hasRemaining()) {
        offset += ch.write(bytes, offset);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {512, 4096})
  void roundTripsAndFlushRetiresTheJournal(int bs) throws IOException {
    LocalVolume v = newVolume(bs);
    ByteBuffer data = LocalVolumeTest.pattern(64 * 1024, 7);
    v.writeAtomic(bs * 3L, data, false);
    assertThat(data.hasRemaining()).isFalse();
    assertThat(read(v, bs * 3L, 64 * 1024)).isEqualTo(data.array());
    assertThat(v.journal().sizeBytes()).isEqualTo(JournalFrame.frameBytes(64 * 1024));

    v.flush();
    assertThat(v.journal().sizeBytes()).isZero();
    assertThat(Files.size(LocalVolume.journalFile(v.dataFile()))).isZero();
    assertThat(read(reopen(), bs * 3L, 64 * 1024)).isEqualTo(data.array());
  }

  @Test
  void maximumLengthWorksAndLongerOrMisplacedWritesAreRefused() throws IOException {
    LocalVolume v = newVolume(BS);
    ByteBuffer max = LocalVolumeTest.pattern(Volume.MAX_ATOMIC_WRITE_BYTES, 3);
    v.writeAtomic(SIZE - Volume.MAX_ATOMIC_WRITE_BYTES, max, true);
    assertThat(read(v, SIZE - Volume.MAX_ATOMIC_WRITE_BYTES, Volume.MAX_ATOMIC_WRITE_BYTES))
        .isEqualTo(max.array());

    assertThatThrownBy(
            () -> v.writeAtomic(0, ByteBuffer.allocate(Volume.MAX_ATOMIC_WRITE_BYTES + BS), false))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> v.writeAtomic(SIZE, ByteBuffer.allocate(BS), false))
        .isInstanceOf(OutOfRangeException.class);
    assertThatThrownBy(() -> v.writeAtomic(1, ByteBuffer.allocate(BS), false))
        .isInstanceOf(OutOfRangeException.class);
    v.writeAtomic(SIZE, ByteBuffer.allocate(0), false); // zero length at the end: a no-op
  }

  @Test
  void crashAfterTheJournalBeforeTheInPlaceWriteEndedIsRepairedOnOpen() throws IOException {
    LocalVolume v = newVolume(BS);
    long offset = 1L << 20;
    int length = 256 * 1024;
    v.write(offset, filled(length, 0x11), true);
    // The crash: the record is durable, the in-place write got only halfway.
    ByteBuffer fresh = filled(length, 0x22);
    appendToJournal(v, JournalFrame.encode(1, offset, fresh));
    writeRaw(v, offset, fresh.duplicate().limit(length / 2));

    LocalVolume after = reopen();
    assertThat(after.journal().replayedRecords()).isEqualTo(1);
    assertThat(read(after, offset, length)).containsOnly((byte) 0x22);
    assertThat(after.journal().sizeBytes()).isZero();
    assertThat(Files.size(LocalVolume.journalFile(after.dataFile()))).isZero();
  }

  @Test
  void recordsReplayInSequenceOrderAndReplayIsIdempotent() throws IOException {
    LocalVolume v = newVolume(BS);
    appendToJournal(v, JournalFrame.encode(1, 0, filled(8 * BS, 0x01)));
    appendToJournal(v, JournalFrame.encode(2, 4L * BS, filled(8 * BS, 0x02)));
    appendToJournal(v, JournalFrame.encode(3, 0, filled(2 * BS, 0x03)));
    // The same records again, as if a crash hit the first replay before the journal was cleared:
    // stale sequence numbers end the scan, the volume ends up the same.
    appendToJournal(v, JournalFrame.encode(1, 0, filled(8 * BS, 0x01)));

    LocalVolume after = reopen();
    assertThat(after.journal().replayedRecords()).isEqualTo(3);
    byte[] got = read(after, 0, 12 * BS);
    assertThat(Arrays.copyOfRange(got, 0, 2 * BS)).containsOnly((byte) 0x03);
    assertThat(Arrays.copyOfRange(got, 2 * BS, 4 * BS)).containsOnly((byte) 0x01);
    assertThat(Arrays.copyOfRange(got, 4 * BS, 12 * BS)).containsOnly((byte) 0x02);
  }

  @Test
  void aTornRecordIsIgnoredWhateverTheCutOrDamage() throws IOException {
    LocalVolume v = newVolume(BS);
    store.close();
    Path journal = LocalVolume.journalFile(v.dataFile());
    ByteBuffer whole = JournalFrame.encode(1, 0, filled(4 * BS, 0x01));
    ByteBuffer torn = JournalFrame.encode(2, 0, filled(4 * BS, 0x02));
    int tornBytes = torn.remaining();
    int[] cuts = {0, 1, 4, JournalFrame.HEADER_BYTES, JournalFrame.HEADER_BYTES + 7, tornBytes - 1};
    for (int cut : cuts) {
      writeJournal(journal, whole.duplicate(), torn.duplicate().limit(cut));
      assertReplaysOnlyTheFirst();
    }
    for (int flip : new int[] {0, 5, 9, 17, 30, tornBytes - 2}) {
      ByteBuffer damaged = ByteBuffer.allocate(tornBytes).put(torn.duplicate()).flip();
      damaged.put(flip, (byte) (damaged.get(flip) ^ 0x40));
      writeJournal(journal, whole.duplicate(), damaged);
      assertReplaysOnlyTheFirst();
    }
    store = null;
  }

  private static void writeJournal(Path journal, ByteBuffer... parts) throws IOException {
    try (FileChannel ch =
        FileChannel.open(journal, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
      for (ByteBuffer p : parts) {
        while (p.hasRemaining()) {
          ch.write(p);
        }
      }
    }
  }

  private void assertReplaysOnlyTheFirst() throws IOException {
    try (VolumeStore s = VolumeStore.open(dir)) {
      LocalVolume v = s.get("vol1").orElseThrow();
      assertThat(v.journal().replayedRecords()).isEqualTo(1);
      assertThat(read(v, 0, 4 * BS)).containsOnly((byte) 0x01);
      assertThat(Files.size(LocalVolume.journalFile(v.dataFile()))).isZero();
    }
  }

  @Test
  void aValidRecordOutsideTheVolumeIsReportedAsCorruption() throws IOException {
    LocalVolume v = newVolume(BS);
    appendToJournal(v, JournalFrame.encode(1, SIZE, filled(BS, 0x01)));
    store.close();
    store = null;
    assertThatThrownBy(() -> VolumeStore.open(dir))
        .isInstanceOf(CorruptMetadataException.class)
        .hasMessageContaining("outside a volume");
  }

  @Test
  void aDurableLaterWriteIsNeverUndoneByAReplay() throws IOException {
    LocalVolume v = newVolume(BS);
    v.writeAtomic(0, filled(8 * BS, 0x0a), false);
    v.write(0, filled(8 * BS, 0x0b), true); // FUA: promised durable, so the record must go
    assertThat(v.journal().hasRecords()).isFalse();
    assertThat(read(reopen(), 0, 8 * BS)).containsOnly((byte) 0x0b);

    LocalVolume w = store.get("vol1").orElseThrow();
    w.writeAtomic(0, filled(8 * BS, 0x0c), false);
    w.write(0, filled(8 * BS, 0x0d), false);
    w.flush();
    assertThat(w.journal().hasRecords()).isFalse();
    assertThat(read(reopen(), 0, 8 * BS)).containsOnly((byte) 0x0d);

    LocalVolume x = store.get("vol1").orElseThrow();
    x.writeAtomic(0, filled(8 * BS, 0x0e), false);
    assertThat(x.compareAndWrite(0, filled(8 * BS, 0x0e), filled(8 * BS, 0x0f), true))
        .isEqualTo(-1);
    assertThat(x.journal().hasRecords()).isFalse();
    assertThat(read(reopen(), 0, 8 * BS)).containsOnly((byte) 0x0f);
  }

  @Test
  void theJournalStaysWithinItsBound() throws IOException {
    Path data = dir.resolve("data");
    VolumeIdentity id = Identities.newIdentity(UUID.nameUUIDFromBytes(new byte[] {1}), "bounded");
    int length = Volume.MAX_ATOMIC_WRITE_BYTES;
    long capacity = 2 * JournalFrame.frameBytes(length) + 100;
    Files.createFile(data);
    LocalVolume v = LocalVolume.open(data, id, SIZE, BS, capacity);
    try {
      for (int i = 0; i < 12; i++) {
        long offset = (i % 4) * (long) length;
        v.writeAtomic(offset, filled(length, i + 1), false);
        assertThat(v.journal().sizeBytes()).isLessThanOrEqualTo(capacity);
        assertThat(Files.size(LocalVolume.journalFile(data))).isLessThanOrEqualTo(capacity);
      }
    } finally {
      v.close();
    }
    LocalVolume again = LocalVolume.open(data, id, SIZE, BS, capacity);
    try {
      for (int i = 8; i < 12; i++) {
        assertThat(read(again, (i % 4) * (long) length, length)).containsOnly((byte) (i + 1));
      }
    } finally {
      again.close();
    }
  }

  @Test
  void anInterruptedCallerLeavesTheRangeWholeAndTheVolumeUsable() throws IOException {
    LocalVolume v = newVolume(BS);
    v.write(0, filled(16 * BS, 0x01), false);
    Thread.currentThread().interrupt();
    try {
      v.writeAtomic(0, filled(16 * BS, 0x02), false);
    } catch (IOException expected) {
      // the journal append may notice the interrupt; then nothing was applied
    } finally {
      Thread.interrupted();
    }
    byte[] now = read(v, 0, 16 * BS);
    assertThat(now[0] == 0x01 || now[0] == 0x02).isTrue();
    assertThat(now).containsOnly(now[0]);
    v.writeAtomic(0, filled(16 * BS, 0x03), false);
    assertThat(read(reopen(), 0, 16 * BS)).containsOnly((byte) 0x03);
  }
}
