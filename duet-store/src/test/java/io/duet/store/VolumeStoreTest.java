package io.duet.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class VolumeStoreTest {
  private static final long MIB = 1 << 20;

  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(ints = {512, 4096})
  void volumesPersistAcrossReopenWithIdenticalIdentity(int bs) throws IOException {
    VolumeIdentity id;
    try (VolumeStore store = VolumeStore.open(dir)) {
      LocalVolume v = store.create("data-1", 4 * MIB, bs);
      id = v.identity();
      v.write(bs, LocalVolumeTest.pattern(bs, 1), true);
      Files.writeString(store.stateDirectory(id).resolve("pr"), "x");
    }
    try (VolumeStore store = VolumeStore.open(dir)) {
      LocalVolume v = store.get("data-1").orElseThrow();
      assertThat(v.identity()).isEqualTo(id);
      assertThat(v.identity().naa()).isEqualTo(id.naa());
      assertThat(v.blockSize()).isEqualTo(bs);
      assertThat(v.sizeBytes()).isEqualTo(4 * MIB);
      assertThat(LocalVolumeTest.readBytes(v, bs, bs))
          .isEqualTo(LocalVolumeTest.pattern(bs, 1).array());
      assertThat(store.get(id.uuid().toString())).containsSame(v);
      assertThat(Files.readString(store.stateDirectory(id).resolve("pr"))).isEqualTo("x");
    }
  }

  @Test
  void newIdentityHasNaa6AndHexSerial() throws IOException {
    try (VolumeStore store = VolumeStore.open(dir)) {
      VolumeIdentity a = store.create("a", MIB, 512).identity();
      VolumeIdentity b = store.create("b", MIB, 4096).identity();
      for (VolumeIdentity id : new VolumeIdentity[] {a, b}) {
        byte[] naa = id.naa();
        assertThat(naa).hasSize(16);
        assertThat(naa[0] >> 4 & 0xf).isEqualTo(6);
        int companyId =
            (naa[0] & 0xf) << 20
                | (naa[1] & 0xff) << 12
                | (naa[2] & 0xff) << 4
                | (naa[3] & 0xf0) >> 4;
        assertThat(companyId).isEqualTo(Identities.DUET_COMPANY_ID);
        assertThat(id.serial()).matches("[0-9A-F]{32}");
        assertThat(id.naaHex()).startsWith("6da7e75");
      }
      assertThat(a.naa()).isNotEqualTo(b.naa());
      assertThat(a.serial()).isNotEqualTo(b.serial());
      assertThat(a.uuid()).isNotEqualTo(b.uuid());
      // derived, not random: the twin at the other site gets the same designator
      assertThat(Identities.naaFor(a.uuid())).isEqualTo(a.naa());
      assertThat(store.list()).extracting(v -> v.identity().name()).containsExactly("a", "b");
    }
  }

  @Test
  void createValidatesNamesSizesAndUniqueness() throws IOException {
    try (VolumeStore store = VolumeStore.open(dir)) {
      store.create("ok.name_1-x", MIB, 512);
      store.create("A".repeat(64), MIB, 512);
      for (String bad :
          new String[] {"", "-x", ".x", "a/b", "a b", "ä", "A".repeat(65), "a\nb", "..", "x=y"}) {
        assertThatThrownBy(() -> store.create(bad, MIB, 512))
            .as("name %s", bad)
            .isInstanceOf(IllegalArgumentException.class);
      }
      assertThatThrownBy(() -> store.create("ok.name_1-x", MIB, 512)).hasMessageContaining("taken");
      assertThatThrownBy(() -> store.create("s", MIB + 512, 4096))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> store.create("s", 0, 512))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> store.create("s", MIB, 1024))
          .isInstanceOf(IllegalArgumentException.class);
      assertThat(store.list()).hasSize(2);
    }
  }

  @Test
  void createWithGivenIdentityMakesATwin() throws IOException {
    VolumeIdentity id =
        Identities.newIdentity(UUID.fromString("00000000-0000-4000-8000-000000000001"), "twin");
    try (VolumeStore store = VolumeStore.open(dir)) {
      assertThat(store.create(id, MIB, 512).identity()).isEqualTo(id);
      VolumeIdentity sameUuid = new VolumeIdentity(id.uuid(), "other", id.naa(), id.serial());
      assertThatThrownBy(() -> store.create(sameUuid, MIB, 512)).hasMessageContaining("exists");
    }
  }

  @Test
  void resizeGrowsOnlyAndPersists() throws IOException {
    try (VolumeStore store = VolumeStore.open(dir)) {
      LocalVolume v = store.create("grow", MIB, 4096);
      v.write(MIB - 4096, LocalVolumeTest.pattern(4096, 2), false);
      store.resize("grow", 3 * MIB);
      assertThat(v.blockCount()).isEqualTo(3 * MIB / 4096);
      assertThat(LocalVolumeTest.readBytes(v, 2 * MIB, 4096)).containsOnly(0);
      v.write(3 * MIB - 4096, LocalVolumeTest.pattern(4096, 3), false);
      assertThatThrownBy(() -> store.resize("grow", MIB)).hasMessageContaining("only grow");
      assertThatThrownBy(() -> store.resize("grow", 3 * MIB + 512))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> store.resize("nope", 4 * MIB)).hasMessageContaining("no volume");
      store.resize("grow", 3 * MIB);
    }
    try (VolumeStore store = VolumeStore.open(dir)) {
      LocalVolume v = store.get("grow").orElseThrow();
      assertThat(v.sizeBytes()).isEqualTo(3 * MIB);
      assertThat(LocalVolumeTest.readBytes(v, MIB - 4096, 4096))
          .isEqualTo(LocalVolumeTest.pattern(4096, 2).array());
      assertThat(LocalVolumeTest.readBytes(v, 3 * MIB - 4096, 4096))
          .isEqualTo(LocalVolumeTest.pattern(4096, 3).array());
    }
  }

  @Test
  void deleteRemovesFilesAndFreesTheName() throws IOException {
    try (VolumeStore store = VolumeStore.open(dir)) {
      LocalVolume v = store.create("gone", MIB, 512);
      Path volumeDir = store.stateDirectory(v.identity()).getParent();
      assertThat(volumeDir).isDirectory();
      store.delete(v.identity().uuid().toString());
      assertThat(volumeDir).doesNotExist();
      assertThat(store.get("gone")).isEmpty();
      assertThatThrownBy(() -> store.delete("gone")).isInstanceOf(IllegalArgumentException.class);
      assertThat(store.create("gone", MIB, 512).identity().uuid())
          .isNotEqualTo(v.identity().uuid());
    }
    try (VolumeStore store = VolumeStore.open(dir)) {
      assertThat(store.list()).hasSize(1);
    }
  }

  @Test
  void leftoverOfInterruptedCreateIsRemovedAndForeignEntriesKept() throws IOException {
    Path half = dir.resolve("volumes").resolve(UUID.randomUUID().toString());
    Files.createDirectories(half.resolve("state"));
    Files.write(half.resolve("data"), new byte[512]);
    Path foreign = dir.resolve("volumes").resolve("README");
    Files.createDirectories(foreign.getParent());
    Files.writeString(foreign, "not a volume");
    try (VolumeStore store = VolumeStore.open(dir)) {
      assertThat(store.list()).isEmpty();
    }
    assertThat(half).doesNotExist();
    assertThat(foreign).exists();
  }

  @Test
  void corruptMetadataFailsOpenNamingTheFile() throws IOException {
    Path meta;
    try (VolumeStore store = VolumeStore.open(dir)) {
      VolumeIdentity id = store.create("v", MIB, 512).identity();
      meta = store.stateDirectory(id).resolveSibling("meta");
    }
    byte[] good = Files.readAllBytes(meta);
    byte[] bad = good.clone();
    bad[bad.length / 2] ^= 0x20;
    Files.write(meta, bad);
    assertThatThrownBy(() -> VolumeStore.open(dir))
        .isInstanceOf(CorruptMetadataException.class)
        .hasMessageContaining(meta.toString());
    Files.write(meta, good);
    try (VolumeStore store = VolumeStore.open(dir)) {
      assertThat(store.get("v")).isPresent();
    }
  }

  @Test
  void metadataWithValidFrameButGarbageContentIsRejected() throws IOException {
    Path f = dir.resolve("meta");
    Random random = new Random(7);
    VolumeMeta meta = new VolumeMeta(Identities.newIdentity(new UUID(1, 2), "n"), MIB, 512);
    String good = new String(meta.encode(), StandardCharsets.UTF_8);
    assertThat(VolumeMeta.decode(f, meta.encode())).isEqualTo(meta);
    String[] broken = {
      "",
      good.replace("format=1", "format=2"),
      good.replace("sizeBytes=1048576", "sizeBytes=-1"),
      good.replace("blockSize=512", "blockSize=513"),
      good.replace("naa=6", "naa=5"),
      good.replace("uuid=", "uuid=zz"),
      good + "extra=1\n",
      good + "name=again\n",
      good.replace("serial=", "serial= "),
      good.replace("name=n", "name=/etc"),
      good.replace("sizeBytes=1048576", "sizeBytes=99999999999999999999"),
      good.replace("\nnaa=", "\nnaa"),
    };
    for (String text : broken) {
      assertThatThrownBy(() -> VolumeMeta.decode(f, text.getBytes(StandardCharsets.UTF_8)))
          .as(text)
          .isInstanceOf(CorruptMetadataException.class);
    }
    for (int i = 0; i < 3000; i++) {
      byte[] junk = new byte[random.nextInt(200)];
      random.nextBytes(junk);
      if (i % 2 == 0) { // mutate a valid text instead of pure noise, to reach deeper checks
        junk = good.getBytes(StandardCharsets.UTF_8);
        junk[random.nextInt(junk.length)] = (byte) random.nextInt(128);
      }
      byte[] payload = junk;
      try {
        VolumeMeta.decode(f, payload);
      } catch (CorruptMetadataException expected) {
        assertThat(expected).hasMessageContaining(f.toString());
      }
    }
  }

  @Test
  void concurrentCreatesKeepNamesUnique() throws Exception {
    try (VolumeStore store = VolumeStore.open(dir)) {
      var created = new java.util.concurrent.atomic.AtomicInteger();
      try (var exec = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
        for (int i = 0; i < 32; i++) {
          String name = "v" + (i % 8);
          exec.submit(
              () -> {
                try {
                  store.create(name, MIB, 512);
                  created.incrementAndGet();
                } catch (IllegalArgumentException taken) {
                  // expected for the losers
                }
                return null;
              });
        }
      }
      assertThat(created.get()).isEqualTo(8);
      assertThat(store.list()).hasSize(8);
    }
  }

  @Test
  void aSecondStoreOnTheSameDirectoryIsRefused() throws IOException {
    try (VolumeStore store = VolumeStore.open(dir)) {
      store.create("v", MIB, 512);
      assertThatThrownBy(() -> VolumeStore.open(dir)).hasMessageContaining("in use");
      assertThat(store.get("v")).isPresent();
    }
    try (VolumeStore again = VolumeStore.open(dir)) {
      assertThat(again.get("v")).isPresent();
    }
  }

  @Test
  void openRepairsADataFileLeftShortByACrashDuringResize() throws IOException {
    Path data;
    try (VolumeStore store = VolumeStore.open(dir)) {
      LocalVolume v = store.create("short", 2 * MIB, 4096);
      v.write(0, LocalVolumeTest.pattern(4096, 5), true);
      data = v.dataFile();
    }
    try (var ch =
        java.nio.channels.FileChannel.open(data, java.nio.file.StandardOpenOption.WRITE)) {
      ch.truncate(MIB);
    }
    try (VolumeStore store = VolumeStore.open(dir)) {
      LocalVolume v = store.get("short").orElseThrow();
      assertThat(Files.size(data)).isEqualTo(2 * MIB);
      assertThat(LocalVolumeTest.readBytes(v, 2 * MIB - 4096, 4096)).containsOnly(0);
      assertThat(LocalVolumeTest.readBytes(v, 0, 4096))
          .isEqualTo(LocalVolumeTest.pattern(4096, 5).array());
    }
  }
}
