package io.duet.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The journal frame codec and the replay scan against malformed and random input. */
class JournalFrameTest {
  private static final long VOLUME_BYTES = 64 * 1024;
  private static final int BS = 512;

  @TempDir Path dir;

  @Test
  void encodeThenReadRoundTrips() throws IOException {
    Path file = dir.resolve("j");
    ByteBuffer data = LocalVolumeTest.pattern(3 * BS, 5);
    Files.write(file, array(JournalFrame.encode(42, 7L * BS, data)));
    try (DataChannel ch = new DataChannel(file)) {
      JournalFrame f = JournalFrame.read(ch, 0, ch.size(), Volume.MAX_ATOMIC_WRITE_BYTES);
      assertThat(f).isNotNull();
      assertThat(f.sequence()).isEqualTo(42);
      assertThat(f.offset()).isEqualTo(7L * BS);
      assertThat(array(f.data())).isEqualTo(data.array());
      assertThat(f.bytes()).isEqualTo(ch.size());
      // A length field above the limit is refused before any allocation.
      assertThat(JournalFrame.read(ch, 0, ch.size(), 3 * BS - 1)).isNull();
      assertThat(JournalFrame.read(ch, 1, ch.size(), Volume.MAX_ATOMIC_WRITE_BYTES)).isNull();
      assertThat(JournalFrame.read(ch, -1, ch.size(), Volume.MAX_ATOMIC_WRITE_BYTES)).isNull();
    }
  }

  /**
   * Random journals (some starting with a valid magic and a plausible length) never replay a record
   * and never throw: the scan reads them as "no whole record", and the journal is emptied.
   */
  @Test
  void randomJournalsReplayNothingAndOpenCleanly() throws IOException {
    Random random = new Random(20261107L);
    Path data = dir.resolve("data");
    Files.write(data, new byte[(int) VOLUME_BYTES]);
    Path journal = dir.resolve(AtomicJournal.FILE_NAME);
    for (int i = 0; i < 400; i++) {
      byte[] bytes = new byte[random.nextInt(4 * BS)];
      random.nextBytes(bytes);
      if (bytes.length >= JournalFrame.HEADER_BYTES && random.nextBoolean()) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        b.putInt(0, JournalFrame.MAGIC);
        b.putInt(4, random.nextInt(bytes.length)); // a length that may even fit the file
        if (random.nextBoolean()) {
          b.putLong(8, 1); // a valid first sequence number
          b.putLong(16, 0); // and an in-range offset: only the CRC can stop it
        }
      }
      Files.write(journal, bytes);
      try (DataChannel io = new DataChannel(data);
          AtomicJournal j = AtomicJournal.open(journal, io, VOLUME_BYTES, BS, 4L << 20)) {
        assertThat(j.replayedRecords()).as("iteration %d", i).isZero();
        assertThat(j.sizeBytes()).isZero();
      }
      assertThat(Files.size(journal)).isZero();
    }
    assertThat(Files.readAllBytes(data)).containsOnly(0);
  }

  @Test
  void aCapacityBelowOneMaximumWriteIsRefused() throws IOException {
    Path data = dir.resolve("data");
    Files.write(data, new byte[BS]);
    try (DataChannel io = new DataChannel(data)) {
      org.assertj.core.api.Assertions.assertThatThrownBy(
              () ->
                  AtomicJournal.open(
                      dir.resolve(AtomicJournal.FILE_NAME),
                      io,
                      BS,
                      BS,
                      Volume.MAX_ATOMIC_WRITE_BYTES))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  private static byte[] array(ByteBuffer b) {
    byte[] out = new byte[b.remaining()];
    b.duplicate().get(out);
    return out;
  }
}
