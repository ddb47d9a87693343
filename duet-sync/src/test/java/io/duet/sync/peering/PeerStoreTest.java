package io.duet.sync.peering;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PeerStoreTest {
  private static final Instant NOW = Instant.parse("2026-03-01T00:00:00Z");
  @TempDir Path dir;

  static PeerRecord peer(String name, long id, String address) {
    UUID uuid = new UUID(id, id);
    return new PeerRecord(
        name,
        uuid,
        address,
        SiteIdentity.generate(name, uuid, new SecureRandom(), NOW).certificate());
  }

  @Test
  void changesAreDurableAndReplaceTheSameSite() throws Exception {
    PeerStore store = PeerStore.open(dir);
    assertThat(store.list()).isEmpty();
    PeerRecord b = peer("b", 2, "10.0.0.2:7443");
    store.put(b);
    store.put(peer("c", 3, ""));
    PeerRecord b2 = peer("b", 2, "proxy:9000");
    store.put(b2);
    PeerStore reopened = PeerStore.open(dir);
    assertThat(reopened.list()).extracting(PeerRecord::name).containsExactlyInAnyOrder("b", "c");
    assertThat(reopened.byName("b").orElseThrow().address()).isEqualTo("proxy:9000");
    assertThat(reopened.byFingerprint(b2.fingerprint())).isPresent();
    assertThat(reopened.byFingerprint(b.fingerprint())).isEmpty();
    assertThat(reopened.byId(new UUID(3, 3)).orElseThrow().address()).isEmpty();

    assertThatThrownBy(() -> reopened.put(peer("b", 9, "x:1")))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("already paired");
    assertThat(reopened.remove("b")).isPresent();
    assertThat(reopened.remove("b")).isEmpty();
    assertThat(PeerStore.open(dir).list()).extracting(PeerRecord::name).containsExactly("c");
  }

  @Test
  void damagedFilesAreRefusedWithIoExceptionsOnly() throws Exception {
    byte[] good =
        PeerStoreFormat.encode(List.of(peer("b", 2, "host:1"), peer("ü-site", 3, "[::1]:7443")));
    assertThat(PeerStoreFormat.decode(good)).hasSize(2);
    Random random = new Random(Long.getLong("duet.seed", 99L));
    for (int i = 0; i < 3_000; i++) {
      byte[] bad;
      switch (i % 3) {
        case 0 -> {
          bad = new byte[random.nextInt(200)];
          random.nextBytes(bad);
        }
        case 1 -> bad = java.util.Arrays.copyOf(good, random.nextInt(good.length));
        default -> {
          bad = good.clone();
          bad[random.nextInt(bad.length)] ^= (byte) (1 + random.nextInt(255));
        }
      }
      try {
        PeerStoreFormat.decode(bad);
        throw new AssertionError("accepted damaged file, case " + i);
      } catch (IOException expected) {
        assertThat(expected.getMessage()).isNotBlank();
      }
    }
    // Valid checksum over nonsense: the structure checks still refuse it.
    for (int i = 0; i < 1_000; i++) {
      byte[] body = new byte[12 + random.nextInt(100)];
      random.nextBytes(body);
      java.nio.ByteBuffer.wrap(body).putInt(PeerStoreFormat.MAGIC).putInt(PeerStoreFormat.VERSION);
      byte[] framed = withCrc(body);
      try {
        PeerStoreFormat.decode(framed);
      } catch (IOException expected) {
        assertThat(expected.getMessage()).isNotBlank();
      }
    }
    Files.write(dir.resolve(PeerStore.FILE), new byte[] {1, 2, 3});
    assertThatThrownBy(() -> PeerStore.open(dir))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("peers.bin");
  }

  private static byte[] withCrc(byte[] body) {
    java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
    crc.update(body);
    return java.nio.ByteBuffer.allocate(body.length + 4)
        .put(body)
        .putInt((int) crc.getValue())
        .array();
  }
}
