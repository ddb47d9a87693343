package io.duet.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFileTest {
  @TempDir Path dir;

  @Test
  void roundTripsAndReplaces() throws IOException {
    Path f = dir.resolve("state");
    assertThat(AtomicFile.read(f)).isEmpty();
    AtomicFile.write(f, "one".getBytes(StandardCharsets.UTF_8));
    assertThat(AtomicFile.read(f)).map(String::new).contains("one");
    AtomicFile.write(f, new byte[0]);
    assertThat(AtomicFile.read(f)).hasValueSatisfying(b -> assertThat(b).isEmpty());
    AtomicFile.write(f, "two".getBytes(StandardCharsets.UTF_8));
    assertThat(AtomicFile.read(f)).map(String::new).contains("two");
    try (var files = Files.list(dir)) {
      assertThat(files).containsExactly(f); // no temp file left behind
    }
    AtomicFile.delete(f);
    assertThat(AtomicFile.read(f)).isEmpty();
    AtomicFile.delete(f);
  }

  @Test
  void everyFlippedBitIsDetected() throws IOException {
    Path f = dir.resolve("state");
    AtomicFile.write(f, "key=value\nother=1\n".getBytes(StandardCharsets.UTF_8));
    byte[] good = Files.readAllBytes(f);
    for (int i = 0; i < good.length; i++) {
      for (int bit = 0; bit < 8; bit++) {
        byte[] bad = good.clone();
        bad[i] ^= (byte) (1 << bit);
        Files.write(f, bad);
        assertThatThrownBy(() -> AtomicFile.read(f))
            .isInstanceOf(CorruptMetadataException.class)
            .hasMessageContaining(f.toString());
      }
    }
  }

  @Test
  void everyTruncationAndExtensionIsDetected() throws IOException {
    Path f = dir.resolve("state");
    AtomicFile.write(f, "payload".getBytes(StandardCharsets.UTF_8));
    byte[] good = Files.readAllBytes(f);
    for (int len = 0; len < good.length; len++) {
      Files.write(f, Arrays.copyOf(good, len));
      assertThatThrownBy(() -> AtomicFile.read(f))
          .isInstanceOf(CorruptMetadataException.class)
          .satisfies(e -> assertThat(((CorruptMetadataException) e).file()).isEqualTo(f));
    }
    Files.write(f, Arrays.copyOf(good, good.length + 1));
    assertThatThrownBy(() -> AtomicFile.read(f)).isInstanceOf(CorruptMetadataException.class);
  }

  @Test
  void randomGarbageIsRejectedWithAClearError() throws IOException {
    Path f = dir.resolve("garbage");
    Random random = new Random(42);
    for (int i = 0; i < 2000; i++) {
      byte[] junk = new byte[random.nextInt(64)];
      random.nextBytes(junk);
      if (i % 3 == 0 && junk.length >= 4) {
        junk[0] = 'D'; // get past the magic check sometimes
        junk[1] = 'U';
        junk[2] = 'E';
        junk[3] = 'T';
      }
      Files.write(f, junk);
      assertThatThrownBy(() -> AtomicFile.read(f))
          .isInstanceOf(CorruptMetadataException.class)
          .hasMessageContaining("corrupt metadata file");
    }
  }

  @Test
  void oversizedPayloadIsRefused() {
    Path f = dir.resolve("big");
    assertThatThrownBy(() -> AtomicFile.write(f, new byte[AtomicFile.MAX_PAYLOAD_BYTES + 1]))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(Files.exists(f)).isFalse();
  }

  @Test
  void unknownFrameVersionIsReported() throws IOException {
    Path f = dir.resolve("v2");
    byte[] framed = AtomicFile.frame(new byte[] {1, 2, 3}).array();
    framed[7] = 2; // version field
    // re-seal so only the version differs
    java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
    crc.update(framed, 0, framed.length - 4);
    java.nio.ByteBuffer.wrap(framed).putInt(framed.length - 4, (int) crc.getValue());
    Files.write(f, framed);
    assertThatThrownBy(() -> AtomicFile.read(f))
        .isInstanceOf(CorruptMetadataException.class)
        .hasMessageContaining("version 2");
    assertThat(Optional.of(AtomicFile.unframe(f, AtomicFile.frame(new byte[] {9}).array())))
        .hasValueSatisfying(b -> assertThat(b).containsExactly(9));
  }
}
